import { lockDuration, refill, type FailureCounts, type ThrottleKeys, type ThrottleSettings, type ThrottleStore, type ThrottleVerdict } from '../throttle';

interface Pair {
  failures: number;
  lockedUntil: number;
  expiresAt: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When it is full again (nothing left to remember). */
  fullAt: number;
}

interface Window {
  count: number;
  endsAt: number;
}

const PRUNE_EVERY = 1024;

/** Throttling state in this process only (the embedded default; production uses Redis). */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly pairs = new Map<string, Pair>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly subjects = new Map<string, Window>();
  private writes = 0;

  async check(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict> {
    const pair = this.livePair(keys, now);
    if (pair && pair.lockedUntil > now) return { allowed: false, reason: 'pair_locked', retryAfterMs: pair.lockedUntil - now };
    const bucket = this.buckets.get(keys.address);
    if (settings.addressCapacity > 0 && bucket) {
      const tokens = refill(bucket.tokens, bucket.at, now, settings);
      if (tokens < 1) return { allowed: false, reason: 'address_exhausted', retryAfterMs: Math.ceil((1 - tokens) / settings.addressRefillPerMs) };
    }
    return { allowed: true, pairFailures: pair?.failures ?? 0 };
  }

  async recordFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<FailureCounts> {
    this.prune(now);
    const pair = this.livePair(keys, now) ?? { failures: 0, lockedUntil: 0, expiresAt: 0 };
    pair.failures += 1;
    const lock = lockDuration(pair.failures, settings);
    if (lock > 0) pair.lockedUntil = now + lock;
    pair.expiresAt = now + Math.max(settings.pairMemoryMs, lock);
    this.pairs.set(pairKey(keys), pair);

    let remaining = Number.POSITIVE_INFINITY;
    if (settings.addressCapacity > 0) {
      const bucket = this.buckets.get(keys.address);
      const tokens = Math.max(0, (bucket ? refill(bucket.tokens, bucket.at, now, settings) : settings.addressCapacity) - 1);
      this.buckets.set(keys.address, { tokens, at: now, fullAt: now + (settings.addressCapacity - tokens) / settings.addressRefillPerMs });
      remaining = Math.floor(tokens);
    }

    const current = this.subjects.get(keys.subject);
    const window = current && current.endsAt > now ? current : { count: 0, endsAt: now + settings.subjectWindowMs };
    window.count += 1;
    this.subjects.set(keys.subject, window);
    return { pairFailures: pair.failures, pairLockedUntil: pair.lockedUntil > now ? pair.lockedUntil : 0, addressRemaining: remaining, subjectFailures: window.count };
  }

  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    this.pairs.delete(pairKey(keys));
  }

  private livePair(keys: ThrottleKeys, now: number): Pair | undefined {
    const pair = this.pairs.get(pairKey(keys));
    return pair && pair.expiresAt > now ? pair : undefined;
  }

  // Amortised clean-up on writes keeps memory bounded without a timer.
  private prune(now: number): void {
    this.writes += 1;
    if (this.writes < PRUNE_EVERY) return;
    this.writes = 0;
    for (const [key, pair] of this.pairs) if (pair.expiresAt <= now) this.pairs.delete(key);
    for (const [key, window] of this.subjects) if (window.endsAt <= now) this.subjects.delete(key);
    // A bucket that has refilled to the brim holds nothing worth keeping.
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
  }
}

function pairKey(keys: ThrottleKeys): string {
  return `${keys.address}\u0000${keys.subject}`;
}
