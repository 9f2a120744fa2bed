import { newFamilyId, newRefreshToken, parseRefreshToken } from '../../src/tokens/refresh-token';

describe('refresh token format', () => {
  it('makes family ids that never begin with "-" (they are session ids on the command line)', () => {
    // 1 in 64 base64url draws begins with '-': 5,000 ids would hold ~78 of them.
    const ids = Array.from({ length: 5_000 }, newFamilyId);
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // Every other character, including '-' after the first, still occurs.
    expect(ids.some((id) => id.slice(1).includes('-'))).toBe(true);
    expect(new Set(ids.map((id) => id[0])).size).toBe(63);
  });

  it('still parses tokens of families whose id begins with "-" (issued before this rule)', () => {
    const token = newRefreshToken(`-${newFamilyId().slice(1)}`);
    expect(parseRefreshToken(token.token)).toEqual(token);
  });
});
