import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { FailureCounts, ThrottleKeys, ThrottleSettings, ThrottleStore, ThrottleVerdict } from '../throttle';

interface ThrottleScripts {
  throttleCheck(pairKey: string, bucketKey: string, now: number, capacity: number, refillPerMs: number): Promise<[string, number]>;
  throttleFail(pairKey: string, bucketKey: string, ...args: number[]): Promise<[number, number, number]>;
  throttleCount(subjectKey: string, now: number, windowMs: number): Promise<number>;
}

type ThrottleRedis = Redis & ThrottleScripts;

// The pair and the address bucket share the address's hash tag, so checking both is one script
// in one slot (Redis Cluster); the subject's counter lives in its own slot. The client's
// keyPrefix goes in front of each.
export const throttleKeys = {
  pair: (keys: ThrottleKeys) => `th:{a:${keys.address}}:p:${keys.subject}`,
  bucket: (keys: ThrottleKeys) => `th:{a:${keys.address}}:b`,
  subject: (keys: ThrottleKeys) => `th:{s:${keys.subject}}:f`,
};

const script = (name: string): string => readFileSync(path.join(__dirname, `${name}.lua`), 'utf8');

/** Throttling on Redis: one EVALSHA to check, two (in parallel, two slots) to record a failure. */
export class RedisThrottleStore implements ThrottleStore {
  private readonly redis: ThrottleRedis;

  constructor(redis: Redis) {
    redis.defineCommand('throttleCheck', { numberOfKeys: 2, lua: script('throttle-check') });
    redis.defineCommand('throttleFail', { numberOfKeys: 2, lua: script('throttle-fail') });
    redis.defineCommand('throttleCount', { numberOfKeys: 1, lua: script('throttle-count') });
    this.redis = redis as ThrottleRedis;
  }

  async check(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict> {
    const [outcome, value] = await this.redis.throttleCheck(throttleKeys.pair(keys), throttleKeys.bucket(keys), now, settings.addressCapacity, settings.addressRefillPerMs);
    if (outcome === 'ok') return { allowed: true, pairFailures: Number(value) };
    return { allowed: false, reason: outcome === 'pair_locked' ? 'pair_locked' : 'address_exhausted', retryAfterMs: Number(value) };
  }

  async recordFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<FailureCounts> {
    const [[pairFailures, lockedUntil, remaining], subjectFailures] = await Promise.all([
      this.redis.throttleFail(throttleKeys.pair(keys), throttleKeys.bucket(keys), now, settings.pairThreshold, settings.pairBaseLockMs, settings.pairMaxLockMs, settings.pairMemoryMs, settings.addressCapacity, settings.addressRefillPerMs),
      this.redis.throttleCount(throttleKeys.subject(keys), now, settings.subjectWindowMs),
    ]);
    return {
      pairFailures: Number(pairFailures),
      pairLockedUntil: Number(lockedUntil),
      addressRemaining: Number(remaining) < 0 ? Number.POSITIVE_INFINITY : Number(remaining),
      subjectFailures: Number(subjectFailures),
    };
  }

  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await this.redis.del(throttleKeys.pair(keys));
  }
}
