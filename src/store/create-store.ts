import type { Config } from '../config/config';
import type { Logger } from '../logging/logger';
import { failClosed } from './fail-closed';
import { MemoryTokenStore } from './memory/memory-store';
import { redisOutage } from './redis/outage';
import { createRedisClient, RedisTokenStore } from './redis/redis-store';
import type { TokenStore } from './token-store';
import type { ThrottleStore } from './throttle';
import { MemoryThrottleStore } from './memory/memory-throttle';
import { RedisThrottleStore } from './redis/redis-throttle';

export interface Stores {
  readonly store: TokenStore;
  readonly throttle: ThrottleStore;
}

/** The token store alone (the CLI's session commands). */
export async function createTokenStore(config: Config, log: Logger): Promise<TokenStore> {
  return (await createStores(config, log)).store;
}

/** Every store the service uses, on one shared Redis connection (or in this process). */
export async function createStores(config: Config, log: Logger): Promise<Stores> {
  if (!config.redisUrl) {
    log.warn(
      { event: 'store.embedded' },
      'REDIS_URL is not set: token state is kept in this process only (development only; revocations are lost on restart and not shared between instances)',
    );
    return { store: new MemoryTokenStore(), throttle: new MemoryThrottleStore() };
  }
  const redis = createRedisClient({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix });
  redis.on('error', (error: Error) => log.warn({ event: 'redis.error', err: { message: error.message } }, 'redis connection problem'));
  const store = new RedisTokenStore(redis);
  try {
    await store.connect();
  } catch (error) {
    log.error({ event: 'redis.unavailable', err: { message: (error as Error).message } }, 'redis is not reachable at start; retrying in the background');
  }
  // While Redis cannot answer, whatever needs it fails closed with 503 (http/middleware/errors.ts).
  const isOutage = redisOutage(redis);
  return { store: failClosed<TokenStore>(store, isOutage), throttle: failClosed<ThrottleStore>(new RedisThrottleStore(redis), isOutage) };
}
