import { Redis } from 'ioredis';
import { RedisThrottleStore } from '../../src/store/redis/redis-throttle';
import { connectTestRedis, redisSentinel, uniqueName, type RedisTarget } from '../support/env';
import { until } from '../support/process';

// The throttle store through the run's Redis Sentinel deployment (one master, one replica, one
// sentinel; the contract itself runs there in throttle.contract.test.ts): the client asks the
// sentinel for the master, writes there, and the replica follows.

describe('throttle store on Redis Sentinel', () => {
  const deployment = () => {
    const found = redisSentinel();
    if (!found) throw new Error('this run has no Redis Sentinel (see test/support/global-setup.ts)');
    return found;
  };
  const target = (): RedisTarget => ({ mode: 'sentinel', sentinels: deployment().sentinels, name: deployment().name });

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
