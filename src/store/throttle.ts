/**
 * Failed-credential throttling state (issue 12), shared by every instance: Redis in production,
 * an in-process map on the embedded default. Both pass test/store/throttle.contract.test.ts.
 * Times are Unix ms from the caller's clock, so both backends decide expiry the same way.
 *
 * Three counters, each keyed so that one operation touches one Redis hash slot:
 *   - the pair (subject, address): consecutive failures; past a threshold the pair is refused
 *     for a period that doubles with each further failure, up to a cap; a success resets it;
 *   - the address: a token bucket of failures (refills continuously), across subjects;
 *   - the subject: failures in a window, across addresses, never a lock (only alerts/delays).
 * The pair and the address share the address's hash tag: one round trip checks both.
 */

export interface ThrottleKeys {
  /** Who is being guessed: an opaque, already hashed id of the username or client id. */
  readonly subject: string;
  /** Where the guesses come from: the client address. */
  readonly address: string;
}

export interface ThrottleSettings {
  /** Consecutive failures of a pair before it is refused; 0 = never refuse a pair. */
  readonly pairThreshold: number;
  /** The first refusal period, then doubled for each further failure. */
  readonly pairBaseLockMs: number;
  readonly pairMaxLockMs: number;
  /** How long a pair's failures are remembered after the last one. */
  readonly pairMemoryMs: number;
  /** Failures an address may make in a burst (the bucket's size); 0 = no address limit. */
  readonly addressCapacity: number;
  /** Failures the bucket gives back per ms. */
  readonly addressRefillPerMs: number;
  /** The window in which a subject's failures (from anywhere) are counted. */
  readonly subjectWindowMs: number;
}

export type ThrottleVerdict =
  | { readonly allowed: true; /** The pair's consecutive failures so far (0: nothing to reset on success). */ readonly pairFailures: number }
  | { readonly allowed: false; readonly reason: 'pair_locked' | 'address_exhausted'; readonly retryAfterMs: number };

export interface FailureCounts {
  readonly pairFailures: number;
  /** When the pair may try again (ms); 0 when it is not refused. */
  readonly pairLockedUntil: number;
  /** Failures the address may still make right now. */
  readonly addressRemaining: number;
  /** Failures of the subject in the current window, from every address. */
  readonly subjectFailures: number;
}

export interface ThrottleStore {
  /** Before a credential check: may this subject be tried from this address now? One round trip. */
  check(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict>;
  /** After a failed check: counts it on the pair, the address and the subject. */
  recordFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<FailureCounts>;
  /** After a right credential: the pair's consecutive failures end (the address bucket stays). */
  recordSuccess(keys: ThrottleKeys, now: number): Promise<void>;
}

/** The bucket's content now, from its last known level and time (both backends use this rule). */
export function refill(tokens: number, at: number, now: number, settings: Pick<ThrottleSettings, 'addressCapacity' | 'addressRefillPerMs'>): number {
  return Math.min(settings.addressCapacity, tokens + Math.max(0, now - at) * settings.addressRefillPerMs);
}

/** The pair's refusal period after `failures` consecutive failures; 0 when below the threshold. */
export function lockDuration(failures: number, settings: Pick<ThrottleSettings, 'pairThreshold' | 'pairBaseLockMs' | 'pairMaxLockMs'>): number {
  if (settings.pairThreshold === 0 || failures < settings.pairThreshold) return 0;
  return Math.min(settings.pairBaseLockMs * 2 ** (failures - settings.pairThreshold), settings.pairMaxLockMs);
}
