import type { RedisClient } from './scripts';

// The generation markers and the revocation keys must never be evicted: an evicted marker reads
// as a data loss (every user's tokens revoked), an evicted revocation lets a revoked token work
// again (fail open). Only `noeviction` guarantees neither.

/** Redis's maxmemory-policy: CONFIG GET, or INFO memory where managed Redis disables CONFIG;
 *  undefined when neither answers. */
export async function readEvictionPolicy(redis: RedisClient): Promise<string | undefined> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch {
    // CONFIG disabled or renamed: try INFO.
  }
  try {
    const info = await redis.info('memory');
    return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  } catch {
    return undefined;
  }
}

/** Warns (`redis.eviction_policy`) unless Redis is known to evict nothing. */
export async function warnEvictionPolicy(redis: RedisClient, log: { warn(fields: object, message: string): void }): Promise<void> {
  const policy = await readEvictionPolicy(redis);
  if (policy === undefined || policy === 'noeviction') return;
  log.warn({ event: 'redis.eviction_policy', policy }, `redis maxmemory-policy is ${policy}, not noeviction: under memory pressure it can evict generation markers (a false redis.data_lost, every token revoked) or revocations (revoked tokens working again); set maxmemory-policy noeviction`);
}
