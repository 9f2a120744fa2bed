import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock';
import type { ThrottleConfig } from '../config/config';
import type { FailureCounts } from '../events/catalogue';
import type { EventHub } from '../events/hub';
import type { Logger } from '../logging/logger';
import type { ThrottleKeys, ThrottleStore } from '../store/throttle';
import { tryUsernameKey } from './usernames';
import { KnownNames, knownNamesOf, logFields, type AttemptContext, type CredentialKind } from './credential-log';

export type { AttemptContext, CredentialKind } from './credential-log';

// Throttling of failed credential checks (issue 12): per (subject, address) with a doubling
// lock, per address with a bucket, per subject an alert and a delay but never a lock, so an
// attacker cannot lock the owner out. Subjects are usernames (password checks) and client ids
// (client authentication); the store sees only a hash of either.

/** A refused attempt: answered 429 with Retry-After, the same whether or not the subject exists. */
export class ThrottledError extends Error {
  constructor(
    readonly kind: CredentialKind,
    readonly retryAfterSec: number,
  ) {
    super('too many failed attempts');
    this.name = 'ThrottledError';
  }
}

export interface ThrottleDeps {
  readonly throttle: ThrottleStore;
  readonly config: { readonly throttle: ThrottleConfig };
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventHub;
}

/**
 * The throttled address: an IPv4 address as it is, an IPv6 address by its /64 — one subscriber's
 * network, inside which a client chooses addresses freely (RFC 4291 §2.5.1), so a per-address
 * budget for each would be no budget at all.
 */
export function throttledAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  if (!address.includes(':') || !ipaddr.IPv6.isValid(address)) return address;
  const parsed = ipaddr.IPv6.parse(address);
  if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
  return `${parsed.parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}

/** A typed username by its uniqueness key when it can be one (every spelling of a name is one). */
function subjectName(kind: CredentialKind, name: string): string {
  return kind === 'login' ? (tryUsernameKey(name) ?? name) : name;
}

function keysOf(kind: CredentialKind, context: AttemptContext): ThrottleKeys {
  const subject = createHash('sha256').update(`${kind}\u0000${subjectName(kind, context.name)}`).digest('base64url').slice(0, 22);
  return { subject, address: throttledAddress(context.address) };
}

function enabled(config: ThrottleConfig): boolean {
  return config.pairThreshold > 0 || config.addressCapacity > 0 || config.subjectAlertThreshold > 0;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** login.failed or client_auth.failed, once per wrong credential. */
function failedEvent(deps: ThrottleDeps, kind: CredentialKind, context: AttemptContext, counts: FailureCounts): void {
  if (kind === 'login' && context.known === true) knownNamesOf(deps.throttle).note(context.name);
  if (kind === 'login') deps.events.emit('login.failed', { ...logFields(kind, context), ...counts });
  else deps.events.emit('client_auth.failed', { clientId: logFields(kind, context).clientId ?? '', ip: context.address, requestId: context.requestId, ...counts });
}

/** The counts an attempt was charged with, as logged on its failure. */
interface Charge {
  readonly pairFailures: number;
  readonly addressRemaining: number;
}

/**
 * Counts the subject's failure (from any address), logs the failure with its counts, alerts
 * when the subject crosses the alert threshold (at 1×, 2×, 4×… so a long attack stays visible
 * without flooding the log), and past it answers later.
 */
async function subjectFailed(deps: ThrottleDeps, kind: CredentialKind, context: AttemptContext, keys: ThrottleKeys, charge: Charge | undefined): Promise<void> {
  const settings = deps.config.throttle;
  const subjectFailures = await deps.throttle.countSubjectFailure(keys, settings, deps.clock.now());
  failedEvent(deps, kind, context, {
    pairFailures: charge?.pairFailures,
    addressRemaining: charge && Number.isFinite(charge.addressRemaining) ? charge.addressRemaining : undefined,
    subjectFailures,
  });
  const alert = settings.subjectAlertThreshold;
  if (alert > 0 && subjectFailures >= alert) {
    const ratio = subjectFailures / alert;
    if (Number.isInteger(ratio) && (ratio & (ratio - 1)) === 0) {
      if (kind === 'login') deps.events.emit('login.subject_under_attack', { ...logFields(kind, context), subjectFailures });
      else deps.events.emit('client_auth.subject_under_attack', { clientId: logFields(kind, context).clientId ?? '', ip: context.address, requestId: context.requestId, subjectFailures });
    }
    if (settings.subjectFailureDelayMs > 0) await sleep(settings.subjectFailureDelayMs);
  }
}

/** One password check under the throttle: begin it before hashing, then say how it went. */
export interface Attempt {
  /** The credential was wrong (the attempt stays charged); `known`: whether the name named a user. */
  failed(known: boolean): Promise<void>;
  /** The credential was right: the pair is forgiven. */
  succeeded(): Promise<void>;
  /** The check never gave an answer (overload, client gone, an error): the charge is taken back. */
  cancelled(): Promise<void>;
}

/** Throttling configured off: the failure is still an event, with no counts. */
function unthrottled(deps: ThrottleDeps, kind: CredentialKind, context: AttemptContext): Attempt {
  return {
    failed: async (known) => failedEvent(deps, kind, { ...context, known }, {}),
    succeeded: async () => undefined,
    cancelled: async () => undefined,
  };
}

/**
 * Before a password is checked: throws ThrottledError when the pair is refused or the address
 * has no failures left, so a refused guess costs no argon2 work. Otherwise the attempt is
 * charged as a failure at once, atomically with the check (concurrent guesses cannot slip
 * through together), and refunded by succeeded() or cancelled(). One store round trip here, one
 * after; none when throttling is configured off.
 */
export async function beginPasswordAttempt(deps: ThrottleDeps, context: AttemptContext): Promise<Attempt> {
  const settings = deps.config.throttle;
  if (!enabled(settings)) return unthrottled(deps, 'login', context);
  const keys = keysOf('login', context);
  const verdict = await deps.throttle.attempt(keys, settings, deps.clock.now());
  if (!verdict.allowed) {
    const retryAfterSec = seconds(verdict.retryAfterMs);
    // Refused before the database is asked whether the name exists: logged as typed only when
    // it failed here before as a user's name, by hash otherwise.
    deps.events.emit('login.throttled', { ...logFields('login', { ...context, known: knownNamesOf(deps.throttle).has(context.name) }), reason: verdict.reason, retryAfterSec });
    throw new ThrottledError('login', retryAfterSec);
  }
  return {
    failed: (known) => subjectFailed(deps, 'login', { ...context, known }, keys, verdict),
    succeeded: () => deps.throttle.settle(keys, 'succeeded', settings, deps.clock.now()),
    cancelled: () => deps.throttle.settle(keys, 'cancelled', settings, deps.clock.now()),
  };
}

/**
 * Runs a password check under the throttle: `check` answers whether the credential was right,
 * or throws (overload, client gone, a bug), which cancels the attempt's charge.
 */
export async function throttledCheck<T>(deps: ThrottleDeps, context: AttemptContext, check: () => Promise<{ readonly ok: boolean; readonly value: T; readonly known: boolean }>): Promise<T> {
  const attempt = await beginPasswordAttempt(deps, context);
  let outcome;
  try {
    outcome = await check();
  } catch (error) {
    await attempt.cancelled().catch(() => undefined);
    throw error;
  }
  if (outcome.ok) await attempt.succeeded();
  else await attempt.failed(outcome.known);
  return outcome.value;
}

/**
 * Client authentication is on the introspection hot path (one Redis round trip in all), so it
 * is not checked in the store before each attempt: a failure is charged in the store after the
 * fact, and when that leaves the pair or the address refused, this instance remembers it and
 * refuses their next attempts without looking (other instances learn it from their own next
 * failure). Client secrets are long random strings, so this bounds noise and abuse, not guessing.
 */
export class ClientAuthThrottle {
  // Bounded; entries are compared with the clock, so a stale one only costs a comparison.
  private readonly refusedUntil = new LRUCache<string, number>({ max: 10_000 });
  // Ids that named a client when they failed: only these are logged as typed when refused.
  private readonly knownIds = new KnownNames((id) => id);
  // Pairs that failed here and have not succeeded since: only their success costs a store call.
  private readonly failedPairs = new LRUCache<string, true>({ max: 10_000 });

  constructor(private readonly deps: ThrottleDeps) {}

  /** Throws ThrottledError while this pair or address is known to be refused. No I/O. */
  check(clientId: string, address: string | undefined, requestId?: string): void {
    // Every introspection passes here: with nothing refused (the usual case) it hashes nothing.
    if (this.refusedUntil.size === 0 || !enabled(this.deps.config.throttle)) return;
    const now = this.deps.clock.now();
    const keys = keysOf('client_auth', { name: clientId, address });
    const until = Math.max(this.refusedUntil.get(pairKey(keys)) ?? 0, this.refusedUntil.get(addressKey(keys)) ?? 0);
    if (until > now) {
      const retryAfterSec = seconds(until - now);
      // Refused before the id is looked up: one that never named a client may be a secret typed
      // into the id field, so it is logged by keyed hash unless it failed here as a known id.
      const logged = logFields('client_auth', { name: clientId, address, known: this.knownIds.has(clientId) }).clientId ?? '';
      this.deps.events.emit('client_auth.throttled', { clientId: logged, ip: address, requestId, retryAfterSec });
      throw new ThrottledError('client_auth', retryAfterSec);
    }
  }

  /**
   * A right secret forgives the pair's failures and its lock (README: a success resets the
   * count), as a right password does: a pod that tried an old secret must not get its healthy
   * neighbours behind the same address refused. Only for a pair that failed on this instance,
   * so a successful introspection makes no store call; a pair that failed only elsewhere keeps
   * its count until its window passes.
   */
  async succeeded(clientId: string, address: string | undefined): Promise<void> {
    if (this.failedPairs.size === 0 || !enabled(this.deps.config.throttle)) return;
    const keys = keysOf('client_auth', { name: clientId, address });
    const pair = pairKey(keys);
    if (!this.failedPairs.has(pair)) return;
    this.failedPairs.delete(pair);
    this.refusedUntil.delete(pair);
    await this.deps.throttle.settle(keys, 'succeeded', this.deps.config.throttle, this.deps.clock.now());
  }

  async failed(clientId: string, address: string | undefined, known: boolean, requestId?: string): Promise<void> {
    const settings = this.deps.config.throttle;
    const context = { name: clientId, address, known, requestId };
    if (known) this.knownIds.note(clientId);
    if (!enabled(settings)) return unthrottled(this.deps, 'client_auth', context).failed(known);
    const keys = keysOf('client_auth', context);
    this.failedPairs.set(pairKey(keys), true);
    const now = this.deps.clock.now();
    const verdict = await this.deps.throttle.attempt(keys, settings, now);
    if (!verdict.allowed) {
      // Already refused in the store (another instance, or a burst that outran this one's
      // memory): nothing more is written, so a burst from one address cannot grow Redis.
      this.refusedUntil.set(verdict.reason === 'pair_locked' ? pairKey(keys) : addressKey(keys), now + verdict.retryAfterMs);
      return;
    }
    await subjectFailed(this.deps, 'client_auth', context, keys, verdict);
    if (verdict.pairLockedUntil > now) this.refusedUntil.set(pairKey(keys), verdict.pairLockedUntil);
    if (verdict.addressRemaining < 1 && settings.addressRefillPerMs > 0) this.refusedUntil.set(addressKey(keys), now + Math.ceil(1 / settings.addressRefillPerMs));
  }
}

const pairKey = (keys: ThrottleKeys): string => `${keys.address}\u0000${keys.subject}`;
const addressKey = (keys: ThrottleKeys): string => keys.address;
