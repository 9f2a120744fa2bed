import { Redis } from 'ioredis';
import { throttledAddress } from '../../src/identity/credential-throttle';
import { RedisThrottleStore, throttleKeys } from '../../src/store/redis/redis-throttle';
import type { ThrottleSettings } from '../../src/store/throttle';
import { clusterNodes, eachNode, slotOracle } from '../support/cluster';
import { connectTestRedis, uniqueName, type RedisTarget } from '../support/env';

// The throttle store's key layout on the run's real three-master Redis Cluster (the contract
// itself runs there with every backend: throttle.contract.test.ts): each script's keys in one
// slot, the state spread over the nodes. The global setup starts the cluster from redis-server
// and redis-cli (Debian's redis-server and redis-tools; .ci/run installs them); with CI=true a
// run without them fails, it never skips.

describe('throttle store on Redis Cluster', () => {
  const target = (): RedisTarget => ({ mode: 'cluster', nodes: clusterNodes() });

  it('keeps the keys of one attempt (pair and address bucket) in one slot, for IPv4 and IPv6 clients', async () => {
    // Addresses as the service derives them from a request (an IPv6 client by its /64); the
    // slot is computed by the server itself, on the keys as sent, key prefix included.
    const prefix = `${uniqueName('th')}:`;
    const addresses = ['203.0.113.7', '2001:db8:85a3::8a2e:370:7334', '::ffff:198.51.100.2', undefined].map(throttledAddress);
    expect(addresses).toEqual(['203.0.113.7', '2001:db8:85a3:0::/64', '198.51.100.2', 'unknown']);
    const oracle = slotOracle();
    const slotOf = (key: string): Promise<number> => oracle.slotOf(prefix + key);
    const slots = await Promise.all(addresses.flatMap((address) => ['alice', 'b}o{b'].map(async (subject) => {
      const keys = { subject, address };
      return [await slotOf(throttleKeys.pair(keys)), await slotOf(throttleKeys.bucket(keys))];
    }))).finally(() => oracle.close());
    for (const [pair, bucket] of slots) expect(pair).toBe(bucket);
  });

  it('spreads the throttling state of many addresses and subjects over every node', async () => {
    const settings: ThrottleSettings = {
      pairThreshold: 10,
      pairBaseLockMs: 60_000,
      pairMaxLockMs: 900_000,
      pairMemoryMs: 3_600_000,
      addressCapacity: 100,
      addressRefillPerMs: 100 / 3_600_000,
      subjectWindowMs: 3_600_000,
    };
    const prefix = `${uniqueName('th')}:`;
    const redis = await connectTestRedis(target(), prefix);
    try {
      const throttle = new RedisThrottleStore(redis);
      for (let i = 0; i < 30; i += 1) {
        const keys = { subject: `user${i}`, address: `198.51.100.${i}` };
        await throttle.attempt(keys, settings, Date.now());
        await throttle.countSubjectFailure(keys, settings, Date.now());
      }
    } finally {
      await redis.quit();
    }
    // 30 pairs, 30 address buckets, 30 subject counters: each master must hold some of them,
    // or the "cluster" was one node in disguise.
    const counts = await eachNode(async (node) => (await node.keys(`${prefix}*`)).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90);
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });
});
