import { setUserSubject, type FamilyPolicy, type FamilyStore, type NewFamily, type SubjectSnapshot } from '../../src/store/families';
import type { StoreConnection } from '../../src/store/connection';
import type { RevocationStore } from '../../src/store/revocations';
import { hashRefreshSecret, newFamilyId, newRefreshToken, openSuccessor, parseRefreshToken, sealSuccessor, type RefreshToken } from '../../src/tokens/refresh-token';
import { createTestStores, rawRedis, storeContractKinds, uniqueName } from '../support/env';

const MIN = 60_000;
const POLICY: FamilyPolicy = { absoluteTtlMs: 60 * MIN, idleTtlMs: 10 * MIN, graceMs: 5000, revokedRetentionMs: 15 * MIN, maxPerUserClient: 100 };
const NO_GRACE: FamilyPolicy = { ...POLICY, graceMs: 0 };

describe.each(storeContractKinds())('refresh-token family contract (%s)', (kind) => {
  let storage: StoreConnection;
  let families: FamilyStore;
  let revocations: RevocationStore;
  let now: number;
  let userId: string;

  beforeEach(async () => {
    ({ storage, families, revocations } = await createTestStores(kind));
    now = 1_800_000_000_000;
    userId = uniqueName('user-');
  });
  afterEach(async () => storage.close());

  async function login(policy = POLICY, clientId = 'spa', subject?: SubjectSnapshot): Promise<RefreshToken> {
    const token = newRefreshToken(newFamilyId(userId));
    const family: NewFamily = { id: token.familyId, userId, clientId, scope: ['items:read', 'items:write'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret), ip: '10.1.2.3', userAgent: 'test', subject };
    await families.createFamily(family, policy, now);
    return token;
  }

  function rotate(presented: RefreshToken, policy = POLICY, next = newRefreshToken(presented.familyId), clientId = 'spa') {
    return {
      next,
      result: families.rotate({ familyId: presented.familyId, clientId, presentedHash: hashRefreshSecret(presented.secret), nextHash: hashRefreshSecret(next.secret), successorBox: sealSuccessor(presented, next.token) }, policy, now),
    };
  }

  it('rotates: the presented token becomes stale, the successor current', async () => {
    const first = await login();
    const { next, result } = rotate(first);
    const rotated = await result;
    expect(rotated.outcome).toBe('rotated');
    if (rotated.outcome !== 'rotated') return;
    expect(rotated.family).toMatchObject({ id: first.familyId, userId, clientId: 'spa', scope: ['items:read', 'items:write'], audience: 'https://api', generation: 1, revoked: false, ip: '10.1.2.3', userAgent: 'test' });
    expect((await rotate(next).result).outcome).toBe('rotated');
  });

  it('theft: a stale token revokes the whole family, current token included', async () => {
    const first = await login(NO_GRACE);
    const { next, result } = rotate(first, NO_GRACE);
    expect((await result).outcome).toBe('rotated');
    const reuse = await rotate(first, NO_GRACE).result;
    expect(reuse.outcome).toBe('reused');
    expect((await rotate(next, NO_GRACE).result).outcome).toBe('revoked');
    expect((await families.getFamily(first.familyId, now))?.revoked).toBe(true);
    expect((await revocations.revocationState('j', userId, Math.floor(now / 1000), first.familyId)).familyRevoked).toBe(true);
  });

  it('theft: an older generation is detected too, grace window or not', async () => {
    const t0 = await login();
    const r1 = rotate(t0);
    await r1.result;
    now += 10_000;
    const r2 = rotate(r1.next);
    await r2.result;
    expect((await rotate(t0).result).outcome).toBe('reused');
  });

  it('grace window: the previous token again returns the identical successor, family intact', async () => {
    const first = await login();
    const { next, result } = rotate(first);
    await result;
    now += 4_000;
    const replay = await rotate(first).result;
    expect(replay.outcome).toBe('replayed');
    if (replay.outcome !== 'replayed') return;
    expect(openSuccessor(first, replay.successorBox)).toBe(next.token);
    expect(replay.family.revoked).toBe(false);
    expect((await rotate(next).result).outcome).toBe('rotated');
  });

  it('grace window: after it closes, the same presentation is theft', async () => {
    const first = await login();
    await rotate(first).result;
    now += 5_001;
    expect((await rotate(first).result).outcome).toBe('reused');
  });

  it('keeps the successor only sealed: the store never holds a usable token', async () => {
    const first = await login();
    const { next, result } = rotate(first);
    await result;
    if (kind !== 'redis') return;
    const redis = rawRedis();
    try {
      const all: string[] = [];
      for (const key of await redis.keys('*')) {
        const type = await redis.type(key);
        if (type === 'hash') all.push(JSON.stringify(await redis.hgetall(key)));
        if (type === 'zset') all.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
        if (type === 'string') all.push((await redis.get(key)) ?? '');
      }
      const dump = all.join('\n');
      expect(dump).not.toContain(first.secret);
      expect(dump).not.toContain(next.secret);
      expect(dump).toContain(hashRefreshSecret(next.secret));
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a secret never issued for the family, without revoking it', async () => {
    const first = await login();
    const forged = parseRefreshToken(`${first.familyId}.${newRefreshToken(first.familyId).secret}`)!;
    expect((await rotate(forged).result).outcome).toBe('invalid');
    expect((await rotate(first).result).outcome).toBe('rotated');
  });

  it("refuses another client's presentation without rotating or revoking", async () => {
    const first = await login();
    expect((await rotate(first, POLICY, newRefreshToken(first.familyId), 'mobile').result).outcome).toBe('wrong_client');
    expect((await rotate(first).result).outcome).toBe('rotated');
  });

  it('answers unknown for a family that does not exist', async () => {
    expect((await rotate(newRefreshToken(newFamilyId(userId))).result).outcome).toBe('unknown');
  });

  describe('lifetimes', () => {
    it('expires after the idle lifetime without use', async () => {
      const first = await login();
      now += 10 * MIN;
      expect((await rotate(first).result).outcome).toBe('expired');
    });

    it('extends the idle lifetime on each rotation, never past the absolute end', async () => {
      let token = await login();
      for (let i = 0; i < 5; i += 1) {
        now += 9 * MIN;
        const step = rotate(token);
        const result = await step.result;
        expect(result.outcome).toBe('rotated');
        if (result.outcome === 'rotated') expect(result.family.idleExpiresAt).toBe(Math.min(now + 10 * MIN, result.family.absoluteExpiresAt));
        token = step.next;
      }
      now += 9 * MIN; // 54 min since login: still inside both lifetimes
      const sixth = rotate(token);
      const last = await sixth.result;
      expect(last.outcome).toBe('rotated');
      if (last.outcome === 'rotated') expect(last.family.idleExpiresAt).toBe(last.family.absoluteExpiresAt);
      now += 6 * MIN; // 60 min: the absolute end
      expect((await rotate(sixth.next).result).outcome).toBe('expired');
    });
  });

  describe('revocation', () => {
    it('revokes one family; a rotation after it fails, a second revoke finds nothing', async () => {
      const first = await login();
      const revoked = await families.revokeFamily(first.familyId, POLICY, now);
      expect(revoked?.id).toBe(first.familyId);
      expect(await families.revokeFamily(first.familyId, POLICY, now)).toBeUndefined();
      expect((await rotate(first).result).outcome).toBe('revoked');
    });

    it('a revocation racing rotations wins: no successor survives', async () => {
      for (let round = 0; round < 20; round += 1) {
        let token = await login();
        const racers = Array.from({ length: 5 }, () => rotate(token));
        const revoke = families.revokeFamily(token.familyId, POLICY, now);
        await Promise.all([revoke, ...racers.map((r) => r.result)]);
        for (const racer of racers) expect((await rotate(racer.next).result).outcome).toBe('revoked');
        token = racers[0]!.next;
        expect((await families.getFamily(token.familyId, now))?.revoked).toBe(true);
      }
    });

    it('by token (RFC 7009): any token of the family revokes it, for its own client only', async () => {
      const first = await login();
      const hash = (token: RefreshToken) => hashRefreshSecret(token.secret);
      expect(await families.revokeFamilyByToken(first.familyId, 'mobile', hash(first), POLICY, now)).toBe('wrong_client');
      expect(await families.revokeFamilyByToken(first.familyId, 'spa', hash(newRefreshToken(first.familyId)), POLICY, now)).toBe('none');
      expect(await families.revokeFamilyByToken(newFamilyId(userId), 'spa', hash(first), POLICY, now)).toBe('none');
      const { next } = rotate(first);
      const second = rotate(next);
      await second.result;
      // first is two generations old now: still the family's, so it still revokes it.
      expect(await families.revokeFamilyByToken(first.familyId, 'spa', hash(first), POLICY, now)).toBe('revoked');
      expect((await rotate(second.next).result).outcome).toBe('revoked');
      expect(await families.revokeFamilyByToken(first.familyId, 'spa', hash(second.next), POLICY, now)).toBe('none');
    });

    it('by token: a revocation racing rotations wins, whichever token it presents', async () => {
      for (let round = 0; round < 20; round += 1) {
        const token = await login();
        const racers = Array.from({ length: 5 }, () => rotate(token));
        const revoke = families.revokeFamilyByToken(token.familyId, 'spa', hashRefreshSecret(token.secret), POLICY, now);
        const [outcome] = await Promise.all([revoke, ...racers.map((r) => r.result)]);
        expect(outcome).toBe('revoked');
        for (const racer of racers) expect((await rotate(racer.next).result).outcome).toBe('revoked');
      }
    });

    it('current family: only for the live family\'s current token', async () => {
      const token = newRefreshToken(newFamilyId(userId));
      await families.createFamily({ id: token.familyId, userId, username: 'Alice', clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) }, POLICY, now);
      expect(await families.currentFamily(token.familyId, hashRefreshSecret(token.secret), now)).toMatchObject({ id: token.familyId, userId, username: 'Alice', clientId: 'spa' });
      const { next, result } = rotate(token);
      await result;
      expect(await families.currentFamily(token.familyId, hashRefreshSecret(token.secret), now)).toBeUndefined();
      expect((await families.currentFamily(token.familyId, hashRefreshSecret(next.secret), now))?.generation).toBe(1);
      expect(await families.currentFamily(token.familyId, hashRefreshSecret(next.secret), now + 11 * MIN)).toBeUndefined();
      await families.revokeFamily(token.familyId, POLICY, now);
      expect(await families.currentFamily(token.familyId, hashRefreshSecret(next.secret), now)).toBeUndefined();
    });

    it('re-authentication marks a live family only', async () => {
      const token = await login();
      expect((await families.getFamily(token.familyId, now))?.authenticatedAt).toBe(now);
      expect(await families.reauthenticateFamily(token.familyId, now + 5)).toBe(true);
      expect((await families.getFamily(token.familyId, now + 5))?.authenticatedAt).toBe(now + 5);
      await families.revokeFamily(token.familyId, POLICY, now + 6);
      expect(await families.reauthenticateFamily(token.familyId, now + 7)).toBe(false);
      expect(await families.reauthenticateFamily(newFamilyId(userId), now)).toBe(false);
    });

    it('does not resurrect an expired family', async () => {
      const first = await login();
      now += 11 * MIN;
      expect(await families.revokeFamily(first.familyId, POLICY, now)).toBeUndefined();
    });
  });

  describe('sessions', () => {
    it('lists live families oldest first, pruning revoked and expired ones', async () => {
      const a = await login();
      now += 1000;
      const b = await login();
      now += 1000;
      const c = await login();
      await families.revokeFamily(b.familyId, POLICY, now);
      expect((await families.listFamilies(userId, now)).map((f) => f.id)).toEqual([a.familyId, c.familyId]);
      now += 10 * MIN - 1500; // a expired (idle), c still live
      expect((await families.listFamilies(userId, now)).map((f) => f.id)).toEqual([c.familyId]);
    });

    it('revokes every family of a user ("log out everywhere")', async () => {
      const tokens = [await login(), await login(), await login()];
      expect(await families.revokeUserFamilies(userId, POLICY, now)).toBe(3);
      expect(await families.listFamilies(userId, now)).toEqual([]);
      for (const token of tokens) expect((await rotate(token).result).outcome).toBe('revoked');
    });

    it('revokes every family of a user but one, which stays listed and usable', async () => {
      const kept = await login();
      const others = [await login(), await login()];
      expect(await families.revokeUserFamilies(userId, POLICY, now, kept.familyId)).toBe(2);
      expect((await families.listFamilies(userId, now)).map((f) => f.id)).toEqual([kept.familyId]);
      for (const token of others) expect((await rotate(token).result).outcome).toBe('revoked');
      expect((await rotate(kept).result).outcome).toBe('rotated');
    });

    it('keeps at most maxPerUserClient families per client, revoking the oldest', async () => {
      const policy = { ...POLICY, maxPerUserClient: 2 };
      const first = await login(policy);
      now += 1;
      const second = await login(policy);
      now += 1;
      const other = await login(policy, 'mobile');
      now += 1;
      await login(policy);
      const live = await families.listFamilies(userId, now);
      expect(live.filter((f) => f.clientId === 'spa')).toHaveLength(2);
      expect(live.map((f) => f.id)).not.toContain(first.familyId);
      expect(live.map((f) => f.id)).toEqual(expect.arrayContaining([second.familyId, other.familyId]));
      expect((await rotate(first, policy).result).outcome).toBe('revoked');
    });
  });

  describe('browser session (the code flow: logging out of it ends the families it started)', () => {
    it('is kept from the login and read back by every read; none for a family started without one', async () => {
      const token = newRefreshToken(newFamilyId(userId));
      const browserSessionId = 'x'.repeat(43) + token.familyId.slice(-2);
      await families.createFamily({ id: token.familyId, userId, clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret), browserSessionId }, POLICY, now);
      expect((await families.getFamily(token.familyId, now))?.browserSessionId).toBe(browserSessionId);
      expect((await families.currentFamily(token.familyId, hashRefreshSecret(token.secret), now))?.browserSessionId).toBe(browserSessionId);
      const rotated = await rotate(token).result;
      expect(rotated.outcome === 'rotated' && rotated.family.browserSessionId).toBe(browserSessionId);
      const bare = await login();
      expect((await families.getFamily(bare.familyId, now))?.browserSessionId).toBeUndefined();
      const listed = await families.listFamilies(userId, now);
      expect(listed.filter((f) => f.browserSessionId === browserSessionId).map((f) => f.id)).toEqual([token.familyId]);
      expect((await families.revokeFamily(token.familyId, POLICY, now))?.browserSessionId).toBe(browserSessionId);
    });
  });

  describe('subject snapshot (roles and scopes a rotation issues with)', () => {
    const AT_LOGIN: SubjectSnapshot = { roles: ['moderator', 'user'], scopes: ['items:read', 'items:write'], at: 1_800_000_000_000 };

    it('is kept from the login and comes back with every rotation; none for a family started without one', async () => {
      const first = await login(POLICY, 'spa', AT_LOGIN);
      const rotated = await rotate(first).result;
      expect(rotated.outcome === 'rotated' && rotated.family.subject).toEqual(AT_LOGIN);
      const bare = await login();
      const plain = await rotate(bare).result;
      expect(plain.outcome === 'rotated' && plain.family.subject).toBeUndefined();
    });

    it('is replaced by a newer one and never by an older one', async () => {
      const first = await login(POLICY, 'spa', AT_LOGIN);
      const newer = { roles: [], scopes: ['items:read'], at: AT_LOGIN.at + 10 };
      expect(await families.setFamilySubject(first.familyId, newer, now)).toBe(true);
      // A slow writer that read the user before that change must not undo it.
      expect(await families.setFamilySubject(first.familyId, { ...AT_LOGIN, at: AT_LOGIN.at + 5 }, now)).toBe(false);
      expect((await families.getFamily(first.familyId, now))?.subject).toEqual(newer);
      const bare = await login();
      expect(await families.setFamilySubject(bare.familyId, newer, now)).toBe(true);
      expect((await families.getFamily(bare.familyId, now))?.subject).toEqual(newer);
    });

    it('is written into every live family of the user, and never brings a dead one back', async () => {
      const [a, b, revoked] = [await login(POLICY, 'spa', AT_LOGIN), await login(POLICY, 'mobile', AT_LOGIN), await login(POLICY, 'spa', AT_LOGIN)];
      await families.revokeFamily(revoked.familyId, POLICY, now);
      const changed = { roles: ['user'], scopes: ['items:read'], at: AT_LOGIN.at + 1000 };
      expect(await setUserSubject(families, userId, changed, now)).toBe(2);
      for (const token of [a, b]) expect((await families.getFamily(token.familyId, now))?.subject).toEqual(changed);
      expect((await families.getFamily(revoked.familyId, now))?.subject).toEqual(AT_LOGIN);
      expect(await families.setFamilySubject(newFamilyId(userId), changed, now)).toBe(false);
      expect(await families.getFamily(newFamilyId(userId), now)).toBeUndefined();
      now += 11 * MIN; // idle lifetime over
      expect(await setUserSubject(families, userId, { ...changed, at: changed.at + 1 }, now)).toBe(0);
    });
  });
});
