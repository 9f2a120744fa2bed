import type { Config } from '../config/config';
import type { Logger } from '../logging/logger';
import { failClosed } from './fail-closed';
import { MemoryTokenStore } from './memory/memory-store';
import { redisOutage } from './redis/outage';
import { createRedisClient, RedisTokenStore } from './redis/redis-store';
import type { TokenStore } from './token-store';

export async function createTokenStore(config: Config, log: Logger): Promise<TokenStore> {
  if (!config.redisUrl) {
    log.warn(
      { event: 'store.embedded' },
      'REDIS_URL is not set: token state is kept in this process only (development only; revocations are lost on restart and not shared between instances)',
    );
    return new MemoryTokenStore();
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
  return failClosed<TokenStore>(store, redisOutage(redis));
}
