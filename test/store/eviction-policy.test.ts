import { Redis } from 'ioredis';
import { readEvictionPolicy, warnEvictionPolicy } from '../../src/store/redis/eviction-policy';
import { commandExists, startRedis, type Backend } from '../support/backends';
import { missingBackend } from '../support/env';

// Markers or revocations evicted under memory pressure: a false data loss, or a revoked token
// working again. A real redis-server of this file's own.

if (!commandExists('redis-server')) {
  missingBackend('redis-server');
} else {
  describe('Redis maxmemory-policy is checked once at start', () => {
    let redis: Backend;
    let client: Redis;
    beforeAll(async () => {
      redis = await startRedis();
      client = new Redis(redis.url);
    });
    afterAll(async () => {
      client.disconnect();
      await redis.destroy();
    });

    const warned = async (target: Redis): Promise<Array<{ fields: object; message: string }>> => {
      const lines: Array<{ fields: object; message: string }> = [];
      await warnEvictionPolicy(target, { warn: (fields, message) => lines.push({ fields, message }) });
      return lines;
    };

    it('warns redis.eviction_policy for allkeys-lru, read by CONFIG GET or, where CONFIG is disabled, INFO memory', async () => {
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      expect(await warned(client)).toEqual([{ fields: { event: 'redis.eviction_policy', policy: 'allkeys-lru' }, message: expect.stringContaining('set maxmemory-policy noeviction') }]);
      // A managed Redis that refuses CONFIG.
      const managed = new Redis(redis.url);
      try {
        managed.call = (async () => {
          throw new Error("ERR unknown command 'CONFIG'");
        }) as unknown as typeof managed.call;
        expect(await readEvictionPolicy(managed)).toBe('allkeys-lru');
        expect(await warned(managed)).toHaveLength(1);
      } finally {
        managed.disconnect();
      }
    });

    it('says nothing for noeviction, nor when neither CONFIG nor INFO answers', async () => {
      await client.config('SET', 'maxmemory-policy', 'noeviction');
      expect(await warned(client)).toEqual([]);
      const closed = new Redis(redis.url);
      try {
        closed.call = (async () => {
          throw new Error('NOPERM');
        }) as unknown as typeof closed.call;
        closed.info = (async () => {
          throw new Error('NOPERM');
        }) as unknown as typeof closed.info;
        await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
        expect(await warned(closed)).toEqual([]);
      } finally {
        closed.disconnect();
        await client.config('SET', 'maxmemory-policy', 'noeviction');
      }
    });
  });
}
