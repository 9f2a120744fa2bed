import { Cluster } from 'ioredis';
import { connectRedis } from '../../src/store/redis/connect';
import type { DataLoss } from '../../src/store/redis/generations';
import { userKeys } from '../../src/store/redis/keys';
import { redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { USER_TAG_COUNT } from '../../src/store/user-tag';
import { clusterNodes, eachNode } from '../support/cluster';
import { uniqueName } from '../support/env';

// Issue 16, "Redis data loss", on the run's real three-master cluster: one master loses this
// deployment's keys (as a master restarted without persistence, or replaced by an empty replica,
// would), the others keep theirs. The markers of the lost master's tags are gone, so its users'
// tokens from before count as revoked; the other masters' users keep their revocation state and
// their generation. Only this test's key prefix is deleted: the cluster is shared by the run.

describe('Redis Cluster: a shard that lost its data is seen by its own generation markers', () => {
  const prefix = `${uniqueName('loss')}:`;
  const losses: DataLoss[] = [];
  let stores: RedisTokenStores;
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = connectRedis({ mode: 'cluster', nodes: clusterNodes(), username: undefined, password: undefined, tls: false }, { keyPrefix: prefix }) as Cluster;
    stores = redisTokenStores(cluster, undefined, { onDataLost: (loss) => losses.push(loss) });
    await stores.storage.connect();
    await stores.generations.verify();
  });
  afterAll(async () => stores.storage.close());

  const ownerOf = async (userId: string): Promise<string> => {
    const slot = Number(await cluster.cluster('KEYSLOT', prefix + userKeys(userId).generation));
    return cluster.slots[slot]![0]!;
  };

  it('revokes the lost shard\'s tokens from before the loss and leaves the others\' state alone', async () => {
    // Two users on different masters.
    const lostUser = uniqueName('a');
    const lostNode = await ownerOf(lostUser);
    let keptUser = uniqueName('b');
    while ((await ownerOf(keptUser)) === lostNode) keptUser = uniqueName('b');

    const now = Math.floor(Date.now() / 1000);
    const revokedAt = Date.now() - 60_000;
    await stores.revocations.revokeUserTokensBefore(lostUser, revokedAt, 600, now);
    await stores.revocations.revokeUserTokensBefore(keptUser, revokedAt, 600, now);
    expect(await stores.revocations.revocationState('jti', lostUser, now)).toMatchObject({ userRevokedBefore: revokedAt, lostBefore: 0 });

    // The lost master forgets every key of this deployment.
    const [host, port] = lostNode.split(':');
    await eachNode(async (node) => {
      if (node.options.host !== host || String(node.options.port) !== port) return;
      for (const key of await node.keys(`${prefix}*`)) await node.del(key);
    });

    const before = Date.now();
    const lost = await stores.revocations.revocationState('jti', lostUser, now);
    expect(lost.userRevokedBefore).toBe(0); // the revocation is gone with the shard...
    expect(lost.lostBefore).toBeGreaterThanOrEqual(before); // ...so everything issued before now counts as revoked
    const kept = await stores.revocations.revocationState('jti', keptUser, now);
    expect(kept).toMatchObject({ userRevokedBefore: revokedAt, lostBefore: 0 });

    expect(losses).toHaveLength(1);
    expect(losses[0]!.lostTags).toBeGreaterThan(0);
    expect(losses[0]!.lostTags).toBeLessThan(USER_TAG_COUNT);
    // The new generation holds: a later read sees the same start, and no second loss.
    expect((await stores.revocations.revocationState('jti', lostUser, now)).lostBefore).toBe(lost.lostBefore);
    expect(losses).toHaveLength(1);
  });
});
