import { Redis } from 'ioredis';
import { RedisThrottleStore } from '../../src/store/redis/redis-throttle';
import { commandExists } from '../support/backends';
import { connectTestRedis, createTestThrottle, uniqueName, type RedisTarget } from '../support/env';
import { until } from '../support/process';
import { startRedisSentinel, type RedisSentinelBackend } from '../support/redis-topologies';
import { throttleContract } from '../support/throttle-contract';

// The throttle store through Redis Sentinel (one master, one replica, one sentinel): the client
// asks the sentinel for the master and runs the contract there.
// Without redis-server and redis-cli a local run skips this file; CI (CI=true) must not.
const runnable = process.env.CI === 'true' || (commandExists('redis-server') && commandExists('redis-cli'));

(runnable ? describe : describe.skip)('throttle store on Redis Sentinel', () => {
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
