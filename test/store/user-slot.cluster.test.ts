import type { FamilyPolicy } from '../../src/store/families';
import { connectRedis } from '../../src/store/redis/connect';
import { keys, userKeys } from '../../src/store/redis/keys';
import { redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { newBrowserSessionCookie } from '../../src/tokens/browser-session-cookie';
import { hashRefreshSecret, newFamilyId, newRefreshToken, sealSuccessor, type RefreshToken } from '../../src/tokens/refresh-token';
import { userTag, USER_TAG_COUNT } from '../../src/store/user-tag';
import { clusterNodes, eachNode, slotOracle } from '../support/cluster';
import { uniqueName } from '../support/env';

// The token store's key layout on the run's real three-master Redis Cluster: everything one
// user's operations touch is in one hash slot, as the server computes it on the keys as sent
// (key prefix included), so introspection is one pipeline to one node and each script one slot.
// The keys of the layout before user tags are never written here. A run without the cluster
// fails (see test/support/global-setup.ts), it never skips.

const MIN = 60_000;
const POLICY: FamilyPolicy = { absoluteTtlMs: 60 * MIN, idleTtlMs: 10 * MIN, graceMs: 0, revokedRetentionMs: 15 * MIN, maxPerUserClient: 1 };

describe('token store on Redis Cluster: one slot per user', () => {
  /** Every key under `prefix`, on whichever master holds it. */
  // Every key under the prefix but the generation markers (one per tag, written once per deployment,
  // whenever the store's setup gets to them: not the user's keys).
  const keysUnder = async (prefix: string) => (await eachNode((node) => node.keys(`${prefix}*`))).flat().filter((key) => !key.endsWith(':gen'));

  let oracle: ReturnType<typeof slotOracle>;
  const slotOf = (fullKey: string): Promise<number> => oracle.slotOf(fullKey);
  beforeAll(() => {
    oracle = slotOracle();
  });
  afterAll(() => oracle.close());

  it('puts every key of a user (theirs, their families\', their copy of a client epoch) in one slot', async () => {
    const prefix = `${uniqueName('t')}:`;
    // Ids with braces would pick their own hash tag if they stood first; the tag must not move.
    const users = ['alice', '018f6a3e-7b1c-7cde-9f00-123456789abc', 'b}o{b', '{u:AA}', '}', ...Array.from({ length: 10 }, () => uniqueName('user-'))];
    const slots = new Set<number>();
    for (const userId of users) {
      const mine = userKeys(userId);
      const familyId = newFamilyId(userId);
      expect(mine.holdsFamily(familyId)).toBe(true);
      const touched = [
        mine.blacklist('0190c2a1-0000-7000-8000-000000000000'),
        mine.epoch,
        mine.families,
        mine.clientEpoch('spa'),
        // The copy that client deletion writes, spelled as the writer spells it.
        keys.clientEpoch(userTag(userId), 'spa'),
        keys.family(familyId),
        keys.familyUsed(familyId),
        mine.browserSessions,
        keys.browserSession(newBrowserSessionCookie(userId).id),
      ];
      const userSlots = await Promise.all(touched.map((key) => slotOf(prefix + key)));
      expect([userId, new Set(userSlots).size]).toEqual([userId, 1]);
      slots.add(userSlots[0]!);
    }
    // Not one slot for everyone: users are spread.
    expect(slots.size).toBeGreaterThan(5);
  });

  describe('a user\'s whole life on the cluster', () => {
    let stores: RedisTokenStores;
    let prefix: string;

    beforeEach(async () => {
      prefix = `${uniqueName('t')}:`;
      stores = redisTokenStores(connectRedis({ mode: 'cluster', nodes: clusterNodes(), username: undefined, password: undefined, tls: false }, { keyPrefix: prefix }));
      await stores.storage.connect();
    });
    afterEach(async () => stores.storage.close());

    it('writes only into the user\'s slot, and nothing of the layout before user tags', async () => {
      const userId = uniqueName('user-');
      const now = 1_800_000_000_000;
      const nowSec = Math.floor(now / 1000);
      const login = async (at: number) => {
        const token = newRefreshToken(newFamilyId(userId));
        const { evicted } = await stores.families.createFamily({ id: token.familyId, userId, clientId: 'spa', scope: ['items:read'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) }, POLICY, at);
        return { token, evicted };
      };
      const rotate = (presented: RefreshToken, at: number) => {
        const next = newRefreshToken(presented.familyId);
        return stores.families.rotate({ familyId: presented.familyId, clientId: 'spa', presentedHash: hashRefreshSecret(presented.secret), nextHash: hashRefreshSecret(next.secret), successorBox: sealSuccessor(presented, next.token) }, POLICY, at);
      };

      // A login, a rotation, a second login that evicts the first (limit 1), theft of the second.
      const { token: first } = await login(now);
      expect((await rotate(first, now + 1)).outcome).toBe('rotated');
      const { token: second, evicted } = await login(now + 2);
      expect(evicted).toEqual([first.familyId]);
      expect((await rotate(second, now + 3)).outcome).toBe('rotated');
      expect((await rotate(second, now + 4)).outcome).toBe('reused');
      await login(now + 5);
      // Revocations of the user, and introspection's read of them.
      await stores.revocations.blacklistAccessToken('jti-1', userId, nowSec + 900, nowSec);
      await stores.revocations.revokeUserTokensBefore(userId, now, 900, nowSec);
      expect(await stores.revocations.revocationState('jti-1', userId, nowSec, second.familyId, 'spa')).toEqual({ blacklisted: true, userRevokedBefore: now, familyRevoked: true, clientRevokedBefore: 0, lostBefore: 0 });
      expect(await stores.families.listFamilies(userId, now + 6)).toHaveLength(1);

      const written = await keysUnder(prefix);
      // The families (hash and used set), the index, the blacklist entry, the epoch.
      expect(written.length).toBeGreaterThanOrEqual(6);
      const userSlot = await slotOf(prefix + userKeys(userId).epoch);
      const slots = await Promise.all(written.map(slotOf));
      expect(written.filter((_, i) => slots[i] !== userSlot)).toEqual([]);
      expect(written.filter((key) => /^[^{]*(?:at:bl:|user:\{|client:\{|rf:\{)/.test(key.slice(prefix.length)))).toEqual([]);

      // Log out everywhere, on one slot too.
      expect(await stores.families.revokeUserFamilies(userId, POLICY, now + 6)).toBe(1);
      expect(await stores.families.listFamilies(userId, now + 6)).toEqual([]);
    });

    it('browser sessions: every key in the user\'s slot, and the ending scripts find the keys they spell themselves', async () => {
      const userId = uniqueName('user-');
      const now = 1_800_000_000_000;
      const ids = [1, 2, 3].map(() => newBrowserSessionCookie(userId).id);
      for (const id of ids) await stores.browserSessions.createBrowserSession({ id, userId, absoluteExpiresAt: now + 60 * MIN, idleTtlMs: 10 * MIN }, now);
      const written = await keysUnder(prefix);
      expect(written).toHaveLength(4);
      const userSlot = await slotOf(prefix + userKeys(userId).browserSessions);
      expect((await Promise.all(written.map(slotOf))).filter((slot) => slot !== userSlot)).toEqual([]);

      // end-browser-session.lua takes the index out of its user id and the session's tag.
      expect(await stores.browserSessions.endBrowserSession(ids[0]!, now)).toMatchObject({ id: ids[0], userId });
      const index = prefix + userKeys(userId).browserSessions;
      const listed = (await eachNode(async (node) => ((await node.keys(index)).length > 0 ? node.zrange(index, '0', '-1') : []))).flat();
      expect(listed.sort()).toEqual(ids.slice(1).sort());
      // end-user-browser-sessions.lua takes each session's key out of its id.
      expect(await stores.browserSessions.endUserBrowserSessions(userId, now)).toBe(2);
      expect(await keysUnder(prefix)).toEqual([]);
    });

    it('deleting a client writes one copy per tag across the nodes, read from the user\'s own slot', async () => {
      const now = 1_800_000_000_000;
      const nowSec = Math.floor(now / 1000);
      const clientId = uniqueName('doomed-');
      await stores.revocations.revokeClientTokensBefore(clientId, now, 900, nowSec);

      const perNode = (await eachNode((one) => one.keys(`${prefix}*`))).map((held) => held.filter((key) => !key.endsWith(':gen')));
      expect(perNode.flat()).toHaveLength(USER_TAG_COUNT);
      // Spread over every master, not piled on one.
      for (const held of perNode) expect(held.length).toBeGreaterThan(0);
      expect(perNode.flat().filter((key) => !key.endsWith(`:ce:${clientId}`))).toEqual([]);

      for (const userId of Array.from({ length: 8 }, () => uniqueName('user-'))) {
        expect(await slotOf(prefix + userKeys(userId).clientEpoch(clientId))).toBe(await slotOf(prefix + userKeys(userId).epoch));
        const state = await stores.revocations.revocationState('j', userId, nowSec, newFamilyId(userId), clientId);
        expect([userId, state.clientRevokedBefore]).toEqual([userId, now]);
      }
    });
  });
});
