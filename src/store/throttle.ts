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
 *
 * An attempt is charged as a failure *when it is let through*, atomically with the check, and
 * refunded when it turns out right (or is cancelled): thirty guesses sent at once cannot all
 * pass a check that has not yet seen any of them fail.
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

/** An attempt let through, already charged as a failure of the pair and the address. */
export interface Charged {
  readonly allowed: true;
  /** The pair's consecutive failures, this attempt included. */
  readonly pairFailures: number;
  /** When the pair may try again should this attempt fail (ms); 0 when it would not be refused. */
  readonly pairLockedUntil: number;
  /** Failures the address may still make after this one. */
  readonly addressRemaining: number;
}

export type ThrottleVerdict = Charged | { readonly allowed: false; readonly reason: 'pair_locked' | 'address_exhausted'; readonly retryAfterMs: number };

/** How a charged attempt ended when it did not fail: right (the pair is forgiven) or cancelled. */
export type Settlement = 'succeeded' | 'cancelled';

export interface ThrottleStore {
  /**
   * Before a credential check: refuses the attempt when the pair is locked or the address has
   * no failures left; otherwise charges it as a failure (the pair's count, a lock from now on
   * when it reaches the threshold, one from the address's bucket). One round trip.
   */
  attempt(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<ThrottleVerdict>;
  /**
   * A charged attempt that did not fail: 'succeeded' forgets the pair's failures and its lock,
   * 'cancelled' (the check never ran) takes back its count; both give back the address's token.
   */
  settle(keys: ThrottleKeys, outcome: Settlement, settings: ThrottleSettings, now: number): Promise<void>;
  /** A failure of the subject, from any address; returns its failures in the current window. */
  countSubjectFailure(keys: ThrottleKeys, settings: ThrottleSettings, now: number): Promise<number>;
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
