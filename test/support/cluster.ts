import { Redis } from 'ioredis';
import { redisClusterNodes } from './env';
import type { RedisNode } from './redis-topologies';

// Asking the run's shared Redis Cluster (test/support/global-setup.ts) directly what it holds and
// where, beside the service's own client: for tests of the key layout.

/** The cluster's masters; a run without the cluster fails here, it never skips. */
export function clusterNodes(): readonly RedisNode[] {
  const found = redisClusterNodes();
  if (!found) throw new Error('this run has no Redis Cluster (see test/support/global-setup.ts)');
  return found;
}

/** `use` on a plain connection to each master, for asking the nodes what they hold. */
export function eachNode<T>(use: (node: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(
    clusterNodes().map(async ({ host, port }) => {
      const node = new Redis({ host, port });
      try {
        return await use(node);
      } finally {
        node.disconnect();
      }
    }),
  );
}

/** The slot the cluster itself computes for a key as sent (key prefix included), on one connection until closed. */
export function slotOracle(): { slotOf(fullKey: string): Promise<number>; close(): void } {
  const [seed] = clusterNodes();
  if (!seed) throw new Error('a cluster without nodes');
  const node = new Redis({ host: seed.host, port: seed.port });
  return { slotOf: (fullKey) => node.cluster('KEYSLOT', fullKey) as Promise<number>, close: () => node.disconnect() };
}
