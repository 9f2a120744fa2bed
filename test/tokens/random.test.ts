import { issuedAtMs, newJti } from '../../src/tokens/jti';
import { randomBytesPooled } from '../../src/tokens/random';
import { newRefreshToken } from '../../src/tokens/refresh-token';

describe('pooled randomness', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i += 1) seen.add(randomBytesPooled(16).toString('hex'));
    expect(seen.size).toBe(5000);
  });

  it('returns copies: changing one does not change the next', () => {
    const a = randomBytesPooled(32);
    const copy = Buffer.from(a);
    randomBytesPooled(32).fill(0);
    expect(a.equals(copy)).toBe(true);
  });

  it('makes UUIDv7 jtis carrying the issue time, all distinct within one millisecond', () => {
    const jtis = new Set(Array.from({ length: 10_000 }, () => newJti(1_700_000_000_123)));
    expect(jtis.size).toBe(10_000);
    for (const jti of [...jtis].slice(0, 50)) {
      expect(jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(issuedAtMs(jti, 0)).toBe(1_700_000_000_123);
    }
    expect(issuedAtMs('not-a-v7-id', 1_700_000_000)).toBe(1_700_000_000_999);
  });

  it('makes refresh-token secrets of 256 bits that do not repeat', () => {
    const secrets = new Set(Array.from({ length: 2000 }, () => newRefreshToken('f').secret));
    expect(secrets.size).toBe(2000);
    expect(Buffer.from([...secrets][0]!, 'base64url')).toHaveLength(32);
  });
});
