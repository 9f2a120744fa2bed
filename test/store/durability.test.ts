import { Redis } from 'ioredis';
import type { FamilyPolicy } from '../../src/store/families';
import type { Durability } from '../../src/store/redis/durability';
import { keys } from '../../src/store/redis/keys';
import { redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { newBrowserSessionCookie } from '../../src/tokens/browser-session-cookie';
import { hashRefreshSecret, newFamilyId, newRefreshToken, sealSuccessor } from '../../src/tokens/refresh-token';
import { connectTestRedis, redisClusterNodes, uniqueName } from '../support/env';
import { startRedisSentinel, type RedisSentinelBackend } from '../support/redis-topologies';

// REDIS_WAIT_REPLICAS on a real master with one replica (found through Sentinel): each write of
// token state waits for the replica in the same round trip, and says so when it could not.

const POLICY: FamilyPolicy = { absoluteTtlMs: 3_600_000, idleTtlMs: 600_000, graceMs: 0, revokedRetentionMs: 900_000, maxPerUserClient: 10 };
/** For a replica that is stopped: each write is held this long. */
const TIMEOUT_MS = 300;
/** For a healthy replica: generous, so a busy machine does not read as a shortfall. */
const HEALTHY_TIMEOUT_MS = 5_000;

describe('durable token-state writes (REDIS_WAIT_REPLICAS) on Redis with a replica', () => {
  let started: RedisSentinelBackend | undefined;
  const deployment = (): RedisSentinelBackend => {
    if (!started) throw new Error('the sentinel deployment did not start');
    return started;
  };
  let master: Redis;

  beforeAll(async () => {
    started = await startRedisSentinel();
    master = new Redis(deployment().master.port, deployment().master.host);
  }, 30_000);
  afterAll(async () => {
    master?.disconnect();
    await started?.destroy();
  });

  async function stores(replicas: number, timeoutMs = TIMEOUT_MS): Promise<{ stores: RedisTokenStores; prefix: string; shortfalls: Array<[string, number]>; close(): Promise<void> }> {
    const shortfalls: Array<[string, number]> = [];
    const durability: Durability = { replicas, timeoutMs, onShortfall: (write, acknowledged) => shortfalls.push([write, acknowledged]) };
    const prefix = `${uniqueName('dur')}:`;
    const redis = await connectTestRedis({ mode: 'sentinel', sentinels: deployment().sentinels, name: deployment().name }, prefix);
    return { stores: redisTokenStores(redis, durability), prefix, shortfalls, close: async () => void (await redis.quit()) };
  }

  /** A login and one rotation, timed. */
  async function loginAndRotate({ stores: { families } }: { stores: RedisTokenStores }): Promise<{ ms: number; outcome: string }> {
    const userId = uniqueName('user-');
    const first = newRefreshToken(newFamilyId(userId));
    const next = newRefreshToken(first.familyId);
    const started = Date.now();
    await families.createFamily({ id: first.familyId, userId, clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(first.secret) }, POLICY, started);
    const rotated = await families.rotate({ familyId: first.familyId, clientId: 'spa', presentedHash: hashRefreshSecret(first.secret), nextHash: hashRefreshSecret(next.secret), successorBox: sealSuccessor(first, next.token) }, POLICY, started);
    return { ms: Date.now() - started, outcome: rotated.outcome };
  }

  it('answers once the replica holds the write, with nothing to report while it keeps up', async () => {
    const durable = await stores(1, HEALTHY_TIMEOUT_MS);
    try {
      expect((await loginAndRotate(durable)).outcome).toBe('rotated');
      await durable.stores.revocations.blacklistAccessToken('jti-1', 'user-1', Math.floor(Date.now() / 1000) + 60, Math.floor(Date.now() / 1000));
      expect(durable.shortfalls).toEqual([]);
    } finally {
      await durable.close();
    }
  });

  it('waits at most the timeout for a stalled replica, keeps the write, and reports each write that is not replicated', async () => {
    const durable = await stores(1);
    const plain = await stores(0);
    deployment().signalReplica('SIGSTOP');
    try {
      const slow = await loginAndRotate(durable);
      expect(slow.outcome).toBe('rotated');
      // Two writes (login, rotation), each held back for the timeout, then answered.
      expect(slow.ms).toBeGreaterThanOrEqual(2 * TIMEOUT_MS - 20);
      expect(durable.shortfalls).toEqual([['createFamily', 0], ['rotateFamily', 0]]);
      // Without REDIS_WAIT_REPLICAS the same writes do not wait for anyone.
      const fast = await loginAndRotate(plain);
      expect(fast.outcome).toBe('rotated');
      expect(fast.ms).toBeLessThan(TIMEOUT_MS);
      expect(plain.shortfalls).toEqual([]);
    } finally {
      deployment().signalReplica('SIGCONT');
      await durable.close();
      await plain.close();
    }
  });

  it('still writes, and waits, after the master lost its scripts (a promoted replica has none loaded)', async () => {
    const durable = await stores(1, HEALTHY_TIMEOUT_MS);
    try {
      await master.script('FLUSH');
      const userId = uniqueName('user-');
      const token = newRefreshToken(newFamilyId(userId));
      await durable.stores.families.createFamily({ id: token.familyId, userId, clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) }, POLICY, Date.now());
      expect(await master.hget(`${durable.prefix}${keys.family(token.familyId)}`, 'state')).toBe('active');
      expect(durable.shortfalls).toEqual([]);
    } finally {
      await durable.close();
    }
  });
});

describe('durable token-state writes on Redis Cluster', () => {
  it('sends WAIT to the master that owns the write\'s slot (the run\'s cluster has no replicas: each write is reported)', async () => {
    const nodes = redisClusterNodes();
    if (!nodes) throw new Error('this run has no Redis Cluster (see test/support/global-setup.ts)');
    const shortfalls: string[] = [];
    const redis = await connectTestRedis({ mode: 'cluster', nodes }, `${uniqueName('dur')}:`);
    try {
      const { families, revocations } = redisTokenStores(redis, { replicas: 1, timeoutMs: 20, onShortfall: (write) => shortfalls.push(write) });
      // Users of different tags land on different masters; each write must reach its own.
      for (const userId of ['user-a', 'user-b', 'user-c', 'user-d']) {
        const token = newRefreshToken(newFamilyId(userId));
        await families.createFamily({ id: token.familyId, userId, clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) }, POLICY, Date.now());
        expect((await families.getFamily(token.familyId, Date.now()))?.userId).toBe(userId);
        await revocations.revokeUserTokensBefore(userId, Date.now(), 60, Math.floor(Date.now() / 1000));
      }
      expect(shortfalls).toEqual(Array(4).fill(['createFamily', 'moveEpoch']).flat());

      // A client's epoch is 1,024 copies: one WAIT per master for all of them, not one per copy
      // (which held each master's connection 1,024 × the timeout; found by the outside review).
      shortfalls.length = 0;
      const started = Date.now();
      await revocations.revokeClientTokensBefore('gone', Date.now(), 60, Math.floor(Date.now() / 1000));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(shortfalls).toEqual(Array(nodes.length).fill('revokeClientTokens'));
      expect((await revocations.revocationState('jti', 'user-a', Math.floor(Date.now() / 1000), undefined, 'gone')).clientRevokedBefore).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });

  it('codes and browser sessions begun or ended wait too; a session\'s touch does not', async () => {
    const nodes = redisClusterNodes();
    if (!nodes) throw new Error('this run has no Redis Cluster (see test/support/global-setup.ts)');
    const shortfalls: string[] = [];
    const redis = await connectTestRedis({ mode: 'cluster', nodes }, `${uniqueName('dur')}:`);
    try {
      const { codes, browserSessions } = redisTokenStores(redis, { replicas: 1, timeoutMs: 20, onShortfall: (write) => shortfalls.push(write) });
      const now = Date.now();
      const codeHash = uniqueName('code-');
      await codes.saveCode(codeHash, { clientId: 'spa', redirectUri: 'https://app/cb', codeChallenge: 'c', userId: 'user-a', username: 'a', scope: [], audience: 'https://api', browserSessionId: 'b', authTime: now, expiresAt: now + 60_000 }, now);
      expect((await codes.redeemCode(codeHash, 60_000, now)).outcome).toBe('redeemed');
      await codes.recordCodeIssue(codeHash, { jti: 'j', accessTokenExpiresAt: Math.floor(now / 1000) + 60 }, now);
      const { id } = newBrowserSessionCookie('user-a');
      await browserSessions.createBrowserSession({ id, userId: 'user-a', absoluteExpiresAt: now + 60_000, idleTtlMs: 30_000 }, now);
      expect(await browserSessions.touchBrowserSession(id, 30_000, now)).toBeDefined();
      expect(await browserSessions.endBrowserSession(id, now)).toBeDefined();
      await browserSessions.endUserBrowserSessions('user-a', now);
      expect(shortfalls).toEqual(['saveCode', 'redeemCode', 'recordCodeIssue', 'createBrowserSession', 'endBrowserSession', 'endUserBrowserSessions']);
    } finally {
      await redis.quit();
    }
  });
});
