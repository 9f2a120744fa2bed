import type { Cluster, Redis } from 'ioredis';
import type { Settlement, ThrottleKeys, ThrottleSettings, ThrottleStore, ThrottleVerdict } from '../throttle';
import { defineScript } from './scripts';

interface ThrottleScripts {
  throttleAttempt(pairKey: string, bucketKey: string, ...args: number[]): Promise<[string, number, number?, number?]>;
  throttleSettle(pairKey: string, bucketKey: string, outcome: Settlement, now: number, threshold: number, capacity: number, refillPerMs: number): Promise<number>;
  throttleCount(subjectKey: string, now: number, windowMs: number): Promise<number>;
}

type ThrottleRedis = (Redis | Cluster) & ThrottleScripts;

// The pair and the address bucket share the address's hash tag, so an attempt and its
// settlement are each one script in one slot (Redis Cluster); the subject's counter lives in its
// own slot. The client's keyPrefix goes in front of each.
export const throttleKeys = {
  pair: (keys: ThrottleKeys) => `th:{a:${keys.address}}:p:${keys.subject}`,
  bucket: (keys: ThrottleKeys) => `th:{a:${keys.address}}:b`,
  subject: (keys: ThrottleKeys) => `th:{s:${keys.subject}}:f`,
};


/** Throttling on Redis: one EVALSHA per attempt, one per settlement or subject failure. */
export class RedisThrottleStore implements ThrottleStore {
  private readonly redis: ThrottleRedis;

  constructor(redis: Redis | Cluster) {
    defineScript(redis, 'throttleAttempt', 'throttle-attempt', 2);
    defineScript(redis, 'throttleSettle', 'throttle-settle', 2);
    defineScript(redis, 'throttleCount', 'throttle-count', 1);
    this.redis = redis as ThrottleRedis;
  }

  async attempt(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict> {
    const [outcome, first, lockedUntil, remaining] = await this.redis.throttleAttempt(
      throttleKeys.pair(keys),
      throttleKeys.bucket(keys),
      now,
      settings.pairThreshold,
      settings.pairBaseLockMs,
      settings.pairMaxLockMs,
      settings.pairMemoryMs,
      settings.addressCapacity,
      settings.addressRefillPerMs,
    );
    if (outcome === 'ok') {
      return { allowed: true, pairFailures: Number(first), pairLockedUntil: Number(lockedUntil), addressRemaining: Number(remaining) < 0 ? Number.POSITIVE_INFINITY : Number(remaining) };
    }
    return { allowed: false, reason: outcome === 'pair_locked' ? 'pair_locked' : 'address_exhausted', retryAfterMs: Number(first) };
  }

  async settle(keys: ThrottleKeys, outcome: Settlement, settings: ThrottleSettings, now: number): Promise<void> {
    await this.redis.throttleSettle(throttleKeys.pair(keys), throttleKeys.bucket(keys), outcome, now, settings.pairThreshold, settings.addressCapacity, settings.addressRefillPerMs);
  }

  async countSubjectFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<number> {
    return Number(await this.redis.throttleCount(throttleKeys.subject(keys), now, settings.subjectWindowMs));
  }
}
