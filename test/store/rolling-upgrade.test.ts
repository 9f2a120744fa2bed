import { createHash } from 'node:crypto';
import { revokeClientTokens } from '../../src/identity/client-lifecycle';
import { endAccessNow } from '../../src/identity/user-lifecycle';
import type { FamilyPolicy, NewFamily } from '../../src/store/families';
import { keys, userKeys } from '../../src/store/redis/keys';
import { createRedisClient, redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { hashRefreshSecret, newFamilyId, newRefreshToken, sealSuccessor, type RefreshToken } from '../../src/tokens/refresh-token';
import { allTags, tagName, userTag, USER_TAG_COUNT } from '../../src/store/user-tag';
import { FakeClock } from '../support/clock';
import { redisUrl, testConfig, uniqueName } from '../support/env';
import { PreviousRelease, previousKeys } from './previous-release';
import { LONGEST_ACCESS_TOKEN_TTL_SEC, LONGEST_CLIENT_CACHE_TTL_SEC } from '../../src/config/schema';

// A rolling upgrade over commit 1ce0071 (user tags) on one node, as the store sees it: state the
// previous release wrote (keys without tags, families with 22-character ids) must keep working
// here, and what this release revokes must land where an instance of the previous release reads.
// On the run's real standalone Redis (the layout with `legacy` on); a run without it fails.

const MIN = 60_000;
const POLICY: FamilyPolicy = { absoluteTtlMs: 60 * MIN, idleTtlMs: 10 * MIN, graceMs: 5000, revokedRetentionMs: 15 * MIN, maxPerUserClient: 100 };
const sec = (ms: number) => Math.floor(ms / 1000);

/** A user id whose tag is `tag` (a few thousand hashes at most). */
function userWithTag(tag: string): string {
  for (let i = 0; ; i += 1) {
    const id = `user-${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`;
    if (userTag(id) === tag) return id;
  }
}

describe('Redis token store across the upgrade to user tags (standalone)', () => {
  let stores: RedisTokenStores;
  let previous: PreviousRelease;
  let now: number;
  let userId: string;

  beforeEach(async () => {
    const url = redisUrl();
    if (!url) throw new Error('this run has no standalone Redis (see test/support/global-setup.ts)');
    const keyPrefix = `${uniqueName('t')}:`;
    stores = redisTokenStores(createRedisClient({ url, keyPrefix }));
    await stores.storage.connect();
    previous = new PreviousRelease(url, keyPrefix);
    now = 1_800_000_000_000;
    userId = uniqueName('user-');
  });
  afterEach(async () => {
    await stores.storage.close();
    await previous.close();
  });

  const newFamily = (token: RefreshToken, clientId = 'spa'): NewFamily => ({ id: token.familyId, userId, clientId, scope: ['items:read'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) });
  /** A login on an instance of the previous release. */
  const previousLogin = async (clientId = 'spa', at = now): Promise<RefreshToken> => {
    const token = newRefreshToken(PreviousRelease.newFamilyId());
    await previous.createFamily(newFamily(token, clientId), POLICY, at);
    return token;
  };
  /** A login on this release. */
  const login = async (clientId = 'spa', policy = POLICY, at = now) => {
    const token = newRefreshToken(newFamilyId(userId));
    const { evicted } = await stores.families.createFamily(newFamily(token, clientId), policy, at);
    return { token, evicted };
  };
  const rotate = (presented: RefreshToken, at = now) => {
    const next = newRefreshToken(presented.familyId);
    return stores.families.rotate({ familyId: presented.familyId, clientId: 'spa', presentedHash: hashRefreshSecret(presented.secret), nextHash: hashRefreshSecret(next.secret), successorBox: sealSuccessor(presented, next.token) }, POLICY, at);
  };

  describe('families of the previous release', () => {
    it('are listed with this release\'s, oldest first; a dead entry of the old index is pruned', async () => {
      const older = await previousLogin('spa', now - 3000);
      const { token: mine } = await login('spa', POLICY, now - 2000);
      const newer = await previousLogin('mobile', now - 1000);
      const gone = PreviousRelease.newFamilyId();
      await previous.redis.zadd(previousKeys.userFamilies(userId), now - 500, gone);

      const listed = await stores.families.listFamilies(userId, now);
      expect(listed.map((f) => f.id)).toEqual([older.familyId, mine.familyId, newer.familyId]);
      expect(listed.map((f) => f.clientId)).toEqual(['spa', 'spa', 'mobile']);
      expect(await previous.listedFamilyIds(userId)).toEqual([older.familyId, newer.familyId]);
    });

    it('log out everywhere (endAccessNow) revokes a family listed only in the old index, and the old release sees it', async () => {
      const old = await previousLogin();
      const { token: mine } = await login();
      const ended = await endAccessNow({ families: stores.families, revocations: stores.revocations, browserSessions: stores.browserSessions, clock: new FakeClock(now), config: testConfig() }, userId);

      expect(ended).toBe(2);
      expect((await rotate(old)).outcome).toBe('revoked');
      expect((await rotate(mine)).outcome).toBe('revoked');
      expect(await stores.families.listFamilies(userId, now)).toEqual([]);
      // Both indexes are gone with their families.
      expect(await previous.redis.exists(previousKeys.userFamilies(userId), userKeys(userId).families)).toBe(0);
      // An instance of the previous release: the family it minted reads revoked, and the
      // user's access tokens issued until now are revoked by the epoch in its own key.
      const seen = await previous.revocationState('jti', userId, sec(now), old.familyId);
      expect(seen).toMatchObject({ familyRevoked: true, userRevokedBefore: now });
    });

    it('log out everywhere but one session keeps a family of the previous release when it is the one kept', async () => {
      const kept = await previousLogin();
      const { token: mine } = await login();
      expect(await stores.families.revokeUserFamilies(userId, POLICY, now, kept.familyId)).toBe(1);
      expect((await rotate(kept)).outcome).toBe('rotated');
      expect((await rotate(mine)).outcome).toBe('revoked');
      expect((await stores.families.listFamilies(userId, now)).map((f) => f.id)).toEqual([kept.familyId]);
    });

    it('count toward the session limit (create-family.lua) and are evicted first when oldest', async () => {
      const limit: FamilyPolicy = { ...POLICY, maxPerUserClient: 2 };
      const old = await previousLogin('spa', now - 3000);
      const otherClient = await previousLogin('mobile', now - 2500);
      const { token: second, evicted: none } = await login('spa', limit, now - 2000);
      // Two of spa's families (one of each layout) are within the limit of 2.
      expect(none).toEqual([]);

      const { token: third, evicted } = await login('spa', limit, now - 1000);
      expect(evicted).toEqual([old.familyId]);
      expect((await stores.families.getFamily(old.familyId, now))?.revoked).toBe(true);
      // Revoked as revoke-family.lua does: the used-secret set goes, the old release reads it revoked.
      expect(await previous.redis.hget(previousKeys.family(old.familyId), 'state')).toBe('revoked');
      expect((await previous.revocationState('jti', userId, sec(now), old.familyId)).familyRevoked).toBe(true);
      expect((await rotate(old)).outcome).toBe('revoked');
      // The next login's script drops the revoked family from the old index; the other
      // client's family was never counted, and the newer ones live on.
      const { token: fourth, evicted: noneAgain } = await login('mobile', limit, now);
      expect(noneAgain).toEqual([]);
      expect(await previous.listedFamilyIds(userId)).toEqual([otherClient.familyId]);
      expect((await stores.families.listFamilies(userId, now)).map((f) => f.id)).toEqual([otherClient.familyId, second.familyId, third.familyId, fourth.familyId]);
    });

    it('is evicted by the limit even when only the old index lists the user\'s families', async () => {
      const limit: FamilyPolicy = { ...POLICY, maxPerUserClient: 1 };
      const old = await previousLogin('spa', now - 1000);
      const { evicted } = await login('spa', limit);
      expect(evicted).toEqual([old.familyId]);
      expect((await rotate(old)).outcome).toBe('revoked');
    });
  });

  describe('revocations of the previous release are seen here', () => {
    it('its blacklist, user epoch and client epoch, until they expire', async () => {
      const nowSec = sec(now);
      await previous.blacklistAccessToken('jti-1', nowSec + 900, nowSec);
      await previous.revokeUserTokensBefore(userId, now - 5, 900, nowSec);
      await previous.revokeClientTokensBefore('spa', now - 7, 900, nowSec);

      expect(await stores.revocations.revocationState('jti-1', userId, nowSec, undefined, 'spa')).toEqual({ blacklisted: true, userRevokedBefore: now - 5, familyRevoked: false, clientRevokedBefore: now - 7, lostBefore: 0 });
      expect(await stores.revocations.revocationState('jti-2', userId, nowSec, undefined, 'mobile')).toEqual({ blacklisted: false, userRevokedBefore: now - 5, familyRevoked: false, clientRevokedBefore: 0, lostBefore: 0 });
      expect(await stores.revocations.revocationState('jti-1', userId, nowSec + 900, undefined, 'spa')).toEqual({ blacklisted: false, userRevokedBefore: 0, familyRevoked: false, clientRevokedBefore: 0, lostBefore: 0 });
    });

    it('an epoch this release moves takes the later of the two, and the previous release reads it', async () => {
      const nowSec = sec(now);
      await previous.revokeUserTokensBefore(userId, now + 1000, 900, nowSec);
      await stores.revocations.revokeUserTokensBefore(userId, now, 900, nowSec);
      expect((await stores.revocations.revocationState('j', userId, nowSec)).userRevokedBefore).toBe(now + 1000);
      await stores.revocations.revokeUserTokensBefore(userId, now + 2000, 900, nowSec);
      expect((await previous.revocationState('j', userId, nowSec)).userRevokedBefore).toBe(now + 2000);
    });
  });

  describe('revocations of this release are written where the previous release reads them', () => {
    it('a revoked access token, a user epoch, a client epoch and a revoked family of its own', async () => {
      const nowSec = sec(now);
      const old = await previousLogin();
      await stores.revocations.blacklistAccessToken('jti-1', userId, nowSec + 900, nowSec);
      await stores.revocations.revokeUserTokensBefore(userId, now - 5, 900, nowSec);
      await stores.revocations.revokeClientTokensBefore('spa', now - 7, 900, nowSec);
      await stores.families.revokeFamily(old.familyId, POLICY, now);

      expect(await previous.revocationState('jti-1', userId, nowSec, old.familyId, 'spa')).toEqual({ blacklisted: true, userRevokedBefore: now - 5, familyRevoked: true, clientRevokedBefore: now - 7, lostBefore: 0 });
      // As the previous release wrote them: the blacklist entry's value is its expiry and it
      // expires with the token; the epochs are {epoch, exp} hashes.
      expect(await previous.redis.get(previousKeys.blacklist('jti-1'))).toBe(String(nowSec + 900));
      expect(await previous.redis.ttl(previousKeys.blacklist('jti-1'))).toBeGreaterThan(890);
      expect(await previous.redis.hgetall(previousKeys.userEpoch(userId))).toEqual({ epoch: String(now - 5), exp: String(nowSec + 900) });
    });

    it('theft of a family of the previous release, detected here, is seen there', async () => {
      const old = await previousLogin();
      const rotated = await rotate(old);
      expect(rotated.outcome).toBe('rotated');
      expect((await previous.revocationState('j', userId, sec(now), old.familyId)).familyRevoked).toBe(false);
      expect((await rotate(old, now + 6000)).outcome).toBe('reused');
      expect((await previous.revocationState('j', userId, sec(now), old.familyId)).familyRevoked).toBe(true);
      expect(await previous.redis.exists(previousKeys.familyUsed(old.familyId))).toBe(0);
    });
  });

  describe('deleting a client', () => {
    it('writes its epoch under every one of the 1,024 user tags, so any user\'s token of it reads revoked', async () => {
      const clock = new FakeClock(now);
      const clientId = uniqueName('doomed-');
      await revokeClientTokens({ revocations: stores.revocations, clock }, clientId);
      // Past the longest client cache any instance may keep, and a second of clock skew.
      const epoch = now + LONGEST_CLIENT_CACHE_TTL_SEC * 1000 + 1000;

      const tags = allTags();
      expect(new Set(tags).size).toBe(USER_TAG_COUNT);
      const pipeline = previous.redis.pipeline();
      for (const tag of tags) pipeline.hgetall(keys.clientEpoch(tag, clientId)).ttl(keys.clientEpoch(tag, clientId));
      const replies = (await pipeline.exec()) ?? [];
      expect(replies).toHaveLength(2 * USER_TAG_COUNT);
      for (let i = 0; i < USER_TAG_COUNT; i += 1) {
        expect([tags[i], replies[2 * i]?.[1]]).toEqual([tags[i], { epoch: String(epoch), exp: String(sec(now) + LONGEST_ACCESS_TOKEN_TTL_SEC + LONGEST_CLIENT_CACHE_TTL_SEC + 1) }]);
        expect(replies[2 * i + 1]?.[1]).toBeGreaterThan(LONGEST_ACCESS_TOKEN_TTL_SEC - 10);
      }
      // And nothing else by that name: one copy per tag.
      const written = await previous.redis.keys(`${previous.keyPrefix}*:ce:${clientId}`);
      expect(written).toHaveLength(USER_TAG_COUNT);
      // The previous release's key too, for its instances during the upgrade.
      expect((await previous.revocationState('j', 'anyone', sec(now), undefined, clientId)).clientRevokedBefore).toBe(epoch);

      // Users at both ends of the tag range and a few between: each one's read finds the epoch.
      const users = [userWithTag(tagName(0)), userWithTag(tagName(USER_TAG_COUNT - 1)), userWithTag(tagName(512)), ...Array.from({ length: 5 }, () => uniqueName('user-'))];
      expect(new Set(users.map(userTag)).size).toBeGreaterThanOrEqual(7);
      for (const user of users) {
        const state = await stores.revocations.revocationState(uniqueName('jti-'), user, sec(now), newFamilyId(user), clientId);
        expect([user, state.clientRevokedBefore]).toEqual([user, epoch]);
        expect((await stores.revocations.revocationState('j', user, sec(now), undefined, 'spa')).clientRevokedBefore).toBe(0);
      }
    });
  });
});
