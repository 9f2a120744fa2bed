import { Redis } from 'ioredis';
import { RedisThrottleStore } from '../../src/store/redis/redis-throttle';
import { connectTestRedis, createTestThrottle, uniqueName, type RedisTarget } from '../support/env';
import { until } from '../support/process';
import { startRedisSentinel, type RedisSentinelBackend } from '../support/redis-topologies';
import { throttleContract } from '../support/throttle-contract';

// The throttle store through Redis Sentinel (one master, one replica, one sentinel): the client
// asks the sentinel for the master and runs the contract there.
// It needs redis-server and redis-cli (Debian's redis-server and redis-tools; .ci/run installs
// them): without them it fails with a message naming the package, it is never skipped.

describe('throttle store on Redis Sentinel', () => {
  let started: RedisSentinelBackend | undefined;
  const deployment = (): RedisSentinelBackend => {
    if (!started) throw new Error('the sentinel deployment did not start');
    return started;
  };
  const target = (): RedisTarget => ({ mode: 'sentinel', sentinels: deployment().sentinels, name: deployment().name });

  beforeAll(async () => {
    started = await startRedisSentinel();
  }, 30_000);
  afterAll(async () => started?.destroy());

  throttleContract('redis sentinel', () => createTestThrottle('redis', target()));

  it('writes on the master the sentinel names, and the replica follows', async () => {
    const prefix = `${uniqueName('th')}:`;
    const redis = await connectTestRedis(target(), prefix);
    const master = new Redis(deployment().master.port, deployment().master.host);
    const replica = new Redis(deployment().replica.port, deployment().replica.host);
    try {
      const keys = { subject: 'alice', address: '192.0.2.1' };
      await new RedisThrottleStore(redis).countSubjectFailure(keys, { pairThreshold: 10, pairBaseLockMs: 1, pairMaxLockMs: 1, pairMemoryMs: 60_000, addressCapacity: 0, addressRefillPerMs: 0, subjectWindowMs: 60_000 }, Date.now());
      expect(await master.keys(`${prefix}*`)).toHaveLength(1);
      // Replication is asynchronous: the replica has it soon, not at once.
      await until(async () => (await replica.keys(`${prefix}*`)).length === 1, 5_000);
    } finally {
      await redis.quit();
      master.disconnect();
      replica.disconnect();
    }
  });
});
