import { type Cluster, Redis } from 'ioredis';
import type { FamilyStore } from '../../src/store/families';
import { failClosed } from '../../src/store/fail-closed';
import { connectRedis } from '../../src/store/redis/connect';
import { redisOutage } from '../../src/store/redis/outage';
import { redisTokenStores } from '../../src/store/redis/redis-store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { hashRefreshSecret, newFamilyId, newRefreshToken, sealSuccessor } from '../../src/tokens/refresh-token';
import { userTag } from '../../src/store/user-tag';
import { uniqueName } from '../support/env';
import { startRedisCluster, type RedisClusterBackend } from '../support/redis-topologies';

// A master of a Redis Cluster dies (SIGKILL, no replica to promote): what needs its slots must
// fail as an outage (the service's 503), readiness must say the store is down, and nothing else
// may pass for an answer. Found by the outside review: ioredis wraps the node's error in "Too
// many Cluster redirections", which was taken for a bug (500), and PING reached a live node.

const POLICY = { absoluteTtlMs: 3_600_000, idleTtlMs: 600_000, graceMs: 0, revokedRetentionMs: 900_000, maxPerUserClient: 10 };

describe('the token store when a cluster master dies', () => {
  let cluster: RedisClusterBackend | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => cluster?.destroy());

  it('fails as an outage (StoreUnavailableError) where the dead master\'s slots are needed, and readiness fails', async () => {
    const nodes = cluster!.nodes;
    const redis = connectRedis({ mode: 'cluster', nodes, username: undefined, password: undefined, tls: false }, { keyPrefix: `${uniqueName('out')}:` });
    await redis.connect();
    const { storage, families } = redisTokenStores(redis);
    const guarded = failClosed<FamilyStore>(families, redisOutage(redis));
    try {
      await expect(storage.ping()).resolves.toBeUndefined();
      // A user whose slot the first master owns, and a login of theirs.
      const seed = new Redis(nodes[0]!.port, nodes[0]!.host);
      const ownsSlot = async (userId: string) => {
        const slot = Number(await seed.cluster('KEYSLOT', `{u:${userTag(userId)}}`));
        return (redis as Cluster).slots[slot]?.[0] === `${nodes[0]!.host}:${nodes[0]!.port}`;
      };
      let userId = '';
      for (let i = 0; !userId; i += 1) if (await ownsSlot(`victim-${i}`)) userId = `victim-${i}`;
      const first = newRefreshToken(newFamilyId(userId));
      await guarded.createFamily({ id: first.familyId, userId, clientId: 'spa', scope: ['a'], audience: 'https://api', secretHash: hashRefreshSecret(first.secret) }, POLICY, Date.now());
      seed.disconnect();
      await cluster!.killNode(nodes[0]!);

      const next = newRefreshToken(first.familyId);
      const rotation = { familyId: first.familyId, clientId: 'spa', presentedHash: hashRefreshSecret(first.secret), nextHash: hashRefreshSecret(next.secret), successorBox: sealSuccessor(first, next.token) };
      await expect(guarded.rotate(rotation, POLICY, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(guarded.listFamilies(userId, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(storage.ping()).rejects.toThrow();
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
