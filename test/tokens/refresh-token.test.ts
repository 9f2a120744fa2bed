import { familyTag, userTag } from '../../src/store/user-tag';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { newFamilyId, newRefreshToken, openSuccessor, parseRefreshToken, sealSuccessor } from '../../src/tokens/refresh-token';

describe('refresh token format', () => {
  it('makes family ids that never begin with "-" (they are session ids on the command line)', () => {
    // 1 in 64 base64url draws begins with '-': 5,000 ids would hold ~78 of them.
    const ids = Array.from({ length: 5_000 }, (_, i) => newFamilyId(`user-${i}`));
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // Every other character, including '-' after the first, still occurs.
    expect(ids.some((id) => id.slice(1).includes('-'))).toBe(true);
    expect(new Set(ids.map((id) => id[0])).size).toBe(63);
  });

  it('ends each family id with its user\'s tag, so a refresh token alone finds the user\'s slot', () => {
    expect(newFamilyId('user-1')).toHaveLength(24);
    expect(familyTag(newFamilyId('user-1'))).toBe(userTag('user-1'));
    expect(familyTag(newFamilyId('user-2'))).toBe(userTag('user-2'));
  });

  it('still parses tokens of families minted before user tags (22 characters, no tag)', () => {
    const legacy = newRefreshToken('AAAAAAAAAAAAAAAAAAAAAA');
    expect(parseRefreshToken(legacy.token)).toEqual(legacy);
    expect(familyTag(legacy.familyId)).toBeUndefined();
    expect(parseRefreshToken(`${'A'.repeat(23)}.${legacy.secret}`)).toBeUndefined();
  });

  it('still parses tokens of families whose id begins with "-" (issued before this rule)', () => {
    const token = newRefreshToken(`-${newFamilyId('user').slice(1)}`);
    expect(parseRefreshToken(token.token)).toEqual(token);
  });

  describe('the sealed successor (the grace window\'s same answer)', () => {
    const presented = newRefreshToken(newFamilyId('user-1'));
    const successor = newRefreshToken(presented.familyId).token;

    it('opens only with the presented token that sealed it', () => {
      const box = sealSuccessor(presented, successor);
      expect(box).not.toContain(successor);
      expect(openSuccessor(presented, box)).toBe(successor);
      expect(openSuccessor(newRefreshToken(presented.familyId), box)).toBeUndefined();
      // The same secret under another family id derives another key.
      expect(openSuccessor({ ...presented, familyId: newFamilyId('user-1') }, box)).toBeUndefined();
      // A changed character well inside the box (the last base64url character may hold only
      // padding bits, and changing those changes no byte).
      const at = box.length - 5;
      const tampered = `${box.slice(0, at)}${box[at] === 'A' ? 'B' : 'A'}${box.slice(at + 1)}`;
      expect(openSuccessor(presented, tampered)).toBeUndefined();
    });

    it('still opens a box sealed by the previous release (HKDF key, no version prefix): a rolling upgrade keeps grace retries', () => {
      const key = Buffer.from(hkdfSync('sha256', presented.secret, presented.familyId, 'portcullis refresh successor v1', 32));
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
      const legacy = [iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url')).join('.');
      expect(openSuccessor(presented, legacy)).toBe(successor);
    });
  });
});
