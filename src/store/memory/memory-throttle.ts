import { lockDuration, refill, type Settlement, type ThrottleKeys, type ThrottleSettings, type ThrottleStore, type ThrottleVerdict } from '../throttle';

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

  async attempt(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict> {
    this.prune(now);
    const pair = this.livePair(keys, now) ?? { failures: 0, lockedUntil: 0, expiresAt: 0 };
    if (pair.lockedUntil > now) return { allowed: false, reason: 'pair_locked', retryAfterMs: pair.lockedUntil - now };
    let remaining = Number.POSITIVE_INFINITY;
    if (settings.addressCapacity > 0) {
      const bucket = this.buckets.get(keys.address);
      const tokens = bucket ? refill(bucket.tokens, bucket.at, now, settings) : settings.addressCapacity;
      if (tokens < 1) return { allowed: false, reason: 'address_exhausted', retryAfterMs: Math.ceil((1 - tokens) / settings.addressRefillPerMs) };
      this.setBucket(keys.address, tokens - 1, now, settings);
      remaining = Math.floor(tokens - 1);
    }
    pair.failures += 1;
    const lock = lockDuration(pair.failures, settings);
    pair.lockedUntil = lock > 0 ? now + lock : 0;
    pair.expiresAt = now + Math.max(settings.pairMemoryMs, lock);
    this.pairs.set(pairKey(keys), pair);
    return { allowed: true, pairFailures: pair.failures, pairLockedUntil: pair.lockedUntil, addressRemaining: remaining };
  }

  async settle(keys: ThrottleKeys, outcome: Settlement, settings: ThrottleSettings, now: number): Promise<void> {
    if (outcome === 'succeeded') this.pairs.delete(pairKey(keys));
    else {
      const pair = this.livePair(keys, now);
      if (pair && pair.failures > 0) {
        pair.failures -= 1;
        if (settings.pairThreshold === 0 || pair.failures < settings.pairThreshold) pair.lockedUntil = 0;
      }
    }
    const bucket = this.buckets.get(keys.address);
    if (settings.addressCapacity > 0 && bucket) this.setBucket(keys.address, Math.min(settings.addressCapacity, refill(bucket.tokens, bucket.at, now, settings) + 1), now, settings);
  }

  async countSubjectFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<number> {
    const current = this.subjects.get(keys.subject);
    const window = current && current.endsAt > now ? current : { count: 0, endsAt: now + settings.subjectWindowMs };
    window.count += 1;
    this.subjects.set(keys.subject, window);
    return window.count;
  }

  private setBucket(address: string, tokens: number, now: number, settings: ThrottleSettings): void {
    this.buckets.set(address, { tokens, at: now, fullAt: now + (settings.addressCapacity - tokens) / settings.addressRefillPerMs });
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
