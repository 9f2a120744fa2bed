import { createHash, randomBytes } from 'node:crypto';
import type { AuthorizationCode, CodeIssue, CodeStore } from '../../src/store/codes';
import type { StoreConnection } from '../../src/store/connection';
import { createTestStores, storeContractKinds, uniqueName } from '../support/env';

const MIN = 60_000;
const RETAIN = 10 * MIN;

/** What the store is given for a code: SHA-256 of 256 random bits, as tokens/authorization-code.ts makes it. */
const newCodeHash = (): string => createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');

// One contract, every backend. RFC 6749 §4.1.2: a code is short-lived and used once; a second
// use is refused and should revoke what the first issued (§10.5).
describe.each(storeContractKinds())('authorization code contract (%s)', (kind) => {
  let storage: StoreConnection;
  let codes: CodeStore;
  let now: number;
  let code: AuthorizationCode;

  beforeEach(async () => {
    ({ storage, codes } = await createTestStores(kind));
    now = 1_800_000_000_000;
    code = {
      clientId: 'spa',
      redirectUri: 'https://app.example/cb?x=1&y=two words',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      userId: uniqueName('user-'),
      username: 'Zoë O\'Brien',
      scope: ['openid', 'items:read'],
      audience: 'https://api',
      browserSessionId: 'b'.repeat(45),
      authTime: now - 5000,
      expiresAt: now + MIN,
    };
  });
  afterEach(async () => storage.close());

  const ISSUE: CodeIssue = { jti: 'jti-1', accessTokenExpiresAt: 1_800_000_900, familyId: 'family-1' };

  it('redeems a saved code once, giving back exactly what was saved', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, code, now);
    expect(await codes.redeemCode(hash, RETAIN, now + 1000)).toEqual({ outcome: 'redeemed', code });
  });

  it('keeps an empty scope empty', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, { ...code, scope: [] }, now);
    const redeemed = await codes.redeemCode(hash, RETAIN, now);
    expect(redeemed.outcome === 'redeemed' && redeemed.code.scope).toEqual([]);
  });

  it('answers unknown for a code never saved', async () => {
    expect(await codes.redeemCode(newCodeHash(), RETAIN, now)).toEqual({ outcome: 'unknown' });
  });

  it('answers unknown for a code past its expiry, and never redeems it later', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, code, now);
    expect(await codes.redeemCode(hash, RETAIN, code.expiresAt)).toEqual({ outcome: 'unknown' });
    expect(await codes.redeemCode(hash, RETAIN, code.expiresAt + 1)).toEqual({ outcome: 'unknown' });
  });

  it('redeems a code up to the last millisecond of its life', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, code, now);
    expect((await codes.redeemCode(hash, RETAIN, code.expiresAt - 1)).outcome).toBe('redeemed');
  });

  it('keeps nothing for a code saved already expired', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, { ...code, expiresAt: now }, now);
    expect(await codes.redeemCode(hash, RETAIN, now)).toEqual({ outcome: 'unknown' });
  });

  it('refuses to save a code hash again while it is known (that would bring a spent code back)', async () => {
    const hash = newCodeHash();
    await codes.saveCode(hash, code, now);
    await codes.redeemCode(hash, RETAIN, now);
    await expect(codes.saveCode(hash, code, now + 1)).rejects.toThrow(/already saved/);
    expect((await codes.redeemCode(hash, RETAIN, now + 2)).outcome).toBe('replayed');
  });

  describe('replay (RFC 6749 §4.1.2, §10.5)', () => {
    it('answers every later use replayed, with the code and, once recorded, what the first use issued', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      expect((await codes.redeemCode(hash, RETAIN, now)).outcome).toBe('redeemed');
      expect(await codes.recordCodeIssue(hash, ISSUE, now + 10)).toBe('recorded');
      expect(await codes.redeemCode(hash, RETAIN, now + 20)).toEqual({ outcome: 'replayed', code, issued: ISSUE });
      expect(await codes.redeemCode(hash, RETAIN, now + 30)).toEqual({ outcome: 'replayed', code, issued: ISSUE });
    });

    it('records an issue without a family (no refresh token issued)', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      await codes.redeemCode(hash, RETAIN, now);
      const { familyId: _none, ...accessOnly } = ISSUE;
      expect(await codes.recordCodeIssue(hash, accessOnly, now)).toBe('recorded');
      const replay = await codes.redeemCode(hash, RETAIN, now);
      expect(replay.outcome === 'replayed' && replay.issued).toEqual({ ...accessOnly, familyId: undefined });
    });

    it('a replay while the first use is still issuing sees no issue, and the first use then learns of it', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      expect((await codes.redeemCode(hash, RETAIN, now)).outcome).toBe('redeemed');
      expect(await codes.redeemCode(hash, RETAIN, now + 5)).toEqual({ outcome: 'replayed', code, issued: undefined });
      expect(await codes.recordCodeIssue(hash, ISSUE, now + 10)).toBe('replayed');
      // Later replays see what was issued, so they can revoke it too.
      expect(await codes.redeemCode(hash, RETAIN, now + 20)).toEqual({ outcome: 'replayed', code, issued: ISSUE });
    });

    it('keeps a spent code for the retention from its redemption, past the code\'s own expiry, then forgets it', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      await codes.redeemCode(hash, RETAIN, now + 1000);
      await codes.recordCodeIssue(hash, ISSUE, now + 1000);
      expect((await codes.redeemCode(hash, RETAIN, code.expiresAt + MIN)).outcome).toBe('replayed');
      expect((await codes.redeemCode(hash, RETAIN, now + 1000 + RETAIN - 1)).outcome).toBe('replayed');
      expect(await codes.redeemCode(hash, RETAIN, now + 1000 + RETAIN)).toEqual({ outcome: 'unknown' });
    });

    it('a replay does not extend the retention', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      await codes.redeemCode(hash, RETAIN, now);
      expect((await codes.redeemCode(hash, RETAIN, now + RETAIN - 1)).outcome).toBe('replayed');
      expect((await codes.redeemCode(hash, RETAIN, now + RETAIN)).outcome).toBe('unknown');
    });

    it('answers the first use replayed when its code is forgotten before it recorded (nothing vouches no replay came)', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      await codes.redeemCode(hash, 1000, now);
      expect(await codes.recordCodeIssue(hash, ISSUE, now + 1000)).toBe('replayed');
      expect(await codes.recordCodeIssue(newCodeHash(), ISSUE, now)).toBe('replayed');
    });

    it('refuses to record an issue for a code not yet redeemed', async () => {
      const hash = newCodeHash();
      await codes.saveCode(hash, code, now);
      await expect(codes.recordCodeIssue(hash, ISSUE, now)).rejects.toThrow(/before its redemption/);
      expect((await codes.redeemCode(hash, RETAIN, now)).outcome).toBe('redeemed');
    });
  });

  describe('concurrency', () => {
    it('20 concurrent redemptions of one code: exactly one is redeemed, the others replayed', async () => {
      for (let round = 0; round < 5; round += 1) {
        const hash = newCodeHash();
        await codes.saveCode(hash, code, now);
        const outcomes = (await Promise.all(Array.from({ length: 20 }, () => codes.redeemCode(hash, RETAIN, now)))).map((r) => r.outcome);
        expect(outcomes.filter((o) => o === 'redeemed')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'replayed')).toHaveLength(19);
      }
    });

    it('a recording racing a replay: the first use learns of the replay, or the replay sees the issue', async () => {
      for (let round = 0; round < 20; round += 1) {
        const hash = newCodeHash();
        await codes.saveCode(hash, code, now);
        await codes.redeemCode(hash, RETAIN, now);
        const [recorded, replay] = await Promise.all([codes.recordCodeIssue(hash, ISSUE, now), codes.redeemCode(hash, RETAIN, now)]);
        expect(replay.outcome).toBe('replayed');
        // Never both missed: either side knows what to revoke.
        expect(recorded === 'replayed' || (replay.outcome === 'replayed' && replay.issued !== undefined)).toBe(true);
      }
    });
  });
});
