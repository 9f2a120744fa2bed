import type { Settlement, ThrottleKeys, ThrottleSettings, ThrottleStore, ThrottleVerdict } from '../throttle';
import { bindScripts, type RedisClient, type Scripts } from './scripts';

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
  private readonly scripts: Scripts;

  constructor(redis: RedisClient) {
    this.scripts = bindScripts(redis);
  }

  async attempt(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict> {
    const [outcome, first, lockedUntil, remaining] = await this.scripts.throttleAttempt(
      [throttleKeys.pair(keys), throttleKeys.bucket(keys)],
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
    await this.scripts.throttleSettle([throttleKeys.pair(keys), throttleKeys.bucket(keys)], outcome, now, settings.pairThreshold, settings.addressCapacity, settings.addressRefillPerMs);
  }

  async countSubjectFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<number> {
    return Number(await this.scripts.throttleCount([throttleKeys.subject(keys)], now, settings.subjectWindowMs));
  }
}
