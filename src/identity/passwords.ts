import { randomBytes } from 'node:crypto';
import { Algorithm, hash as rsHash, verify as rsVerify } from '@node-rs/argon2';
import type { Argon2Settings } from '../config/config';
import { QueueFullError, QueueShareExceededError, RequestAbortedError, Semaphore, type QueueObserver, type RunOptions } from './semaphore';

/**
 * Who asks for a hash and whether they still want it: `signal` aborts when the client goes away
 * (the queued hash is dropped), `owner` (the client address) is charged for a waiting place.
 */
export type PasswordWork = RunOptions;

/** The argon2 operations we use; one small seam so the binding can be swapped or observed. */
export interface Argon2Binding {
  hash(password: string, options: { memoryCost: number; timeCost: number; parallelism: number }): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  needsRehash(hash: string, options: { memoryCost: number; timeCost: number; parallelism: number }): boolean;
}

/** The parameters of a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), in any order. */
export function phcParams(hash: string): { type: string; m: number; t: number; p: number } | undefined {
  const [, type, , params] = hash.split('$');
  if (!type || !params) return undefined;
  const values = Object.fromEntries(params.split(',').map((pair) => pair.split('=') as [string, string]));
  const [m, t, p] = [Number(values.m), Number(values.t), Number(values.p)];
  return Number.isInteger(m) && Number.isInteger(t) && Number.isInteger(p) ? { type, m, t, p } : undefined;
}

/**
 * @node-rs/argon2 (Rust, via N-API): hashing runs on libuv's threadpool, off the event loop. The
 * benchmark measured it against the `argon2` package at the same parameters: 1.5x faster per
 * hash and 1.8x the hashes/s, with PHC strings each verifies from the other, so hashes made
 * before the switch keep working and are not re-hashed.
 */
export const rustArgon2: Argon2Binding = {
  hash: (password, options) => rsHash(password, { ...options, algorithm: Algorithm.Argon2id }),
  verify: (hash, password) => rsVerify(hash, password),
  needsRehash: (hash, options) => {
    const params = phcParams(hash);
    return !params || params.type !== 'argon2id' || params.m !== options.memoryCost || params.t !== options.timeCost || params.p !== options.parallelism;
  },
};

// NIST SP 800-63B §5.1.1.2: a minimum length, no composition rules, a generous maximum. The
// byte cap keeps a single request from buying seconds of CPU with a megabyte password.
export const MAX_PASSWORD_BYTES = 1024;

export type PasswordProblem = 'too_short' | 'too_long';

export function normalisePassword(password: string): string {
  // NIST SP 800-63B §5.1.1.2: normalise Unicode so the same password typed on two keyboards
  // hashes the same.
  return password.normalize('NFKC');
}

export function checkPasswordPolicy(password: string, minLength: number): PasswordProblem | undefined {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return 'too_long';
  if ([...normalisePassword(password)].length < minLength) return 'too_short';
  return undefined;
}

export function describePasswordProblem(problem: PasswordProblem, minLength: number): string {
  return problem === 'too_short' ? `password must be at least ${minLength} characters` : `password must be at most ${MAX_PASSWORD_BYTES} bytes`;
}

export interface PasswordCheck {
  readonly ok: boolean;
  /** Set when the password was right but the stored hash used other parameters. */
  readonly rehashed?: string;
}

/**
 * Hashing and checking of user passwords with argon2id. At most `maxConcurrent` hashes run at
 * once, so a login storm queues logins instead of filling the threadpool that token signing
 * and verification also use. The queue is fair: a request whose client has gone away leaves it
 * before it is hashed, and one address holds at most `maxQueuePerAddress` waiting places.
 */
export class Passwords {
  private readonly gate: Semaphore;
  private readonly options: { memoryCost: number; timeCost: number; parallelism: number };
  private dummyHash: Promise<string> | undefined;

  constructor(
    settings: Argon2Settings,
    private readonly binding: Argon2Binding = rustArgon2,
  ) {
    this.gate = new Semaphore(settings.maxConcurrent, settings.maxQueue, settings.maxQueuePerAddress);
    this.options = { memoryCost: settings.memoryKib, timeCost: settings.timeCost, parallelism: settings.parallelism };
  }

  async hash(password: string, work: PasswordWork = {}): Promise<string> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new RangeError('password too long');
    return this.gate.run(() => this.binding.hash(normalisePassword(password), this.options), work);
  }

  /**
   * Checks a password against a stored hash; returns a fresh hash when parameters changed and
   * `rehash` allows it (a caller that will refuse the login anyway — a disabled user — says no,
   * so a right password costs no more than a wrong one there).
   */
  async check(storedHash: string, password: string, work: PasswordWork = {}, { rehash = true }: { rehash?: boolean } = {}): Promise<PasswordCheck> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
      // Never hashed, but still costs what a real check costs (see checkUnknownUser).
      await this.checkUnknownUser(password.slice(0, 64), work);
      return { ok: false };
    }
    const normalised = normalisePassword(password);
    const ok = await this.gate.run(() => this.verifySafely(storedHash, normalised), work);
    if (!ok || !rehash || !this.binding.needsRehash(storedHash, this.options)) return { ok };
    try {
      return { ok, rehashed: await this.hash(password, work) };
    } catch (error) {
      // The re-hash is an upgrade, not part of the check: a full queue (or a client that left)
      // must not turn a right password into a refusal. The next login tries again.
      if (error instanceof QueueFullError || error instanceof QueueShareExceededError || error instanceof RequestAbortedError) return { ok };
      throw error;
    }
  }

  /**
   * The check for a username that does not exist: one argon2 verify against a dummy hash with
   * the current parameters, so the answer costs what a wrong password costs and response time
   * does not reveal which usernames exist. Always false.
   */
  async checkUnknownUser(password: string, work: PasswordWork = {}): Promise<false> {
    // Made once and shared by every caller, so it is no one request's work: neither its signal
    // nor its owner. A failed attempt (a full queue) is forgotten, else it would fail every
    // unknown-user check after it.
    this.dummyHash ??= this.gate.run(() => this.binding.hash(randomBytes(32).toString('base64url'), this.options)).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    const dummy = await this.dummyHash;
    await this.gate.run(() => this.verifySafely(dummy, normalisePassword(password)), work);
    return false;
  }

  /** Hashes waiting for a slot right now (for the benchmark, overload decisions and metrics). */
  get pending(): number {
    return this.gate.pending;
  }

  /** Hashes running right now (at most ARGON2_MAX_CONCURRENT). */
  get running(): number {
    return this.gate.running;
  }

  /** The metrics' view of the queue: each hash's wait for a slot, each refusal. */
  observeQueue(observer: QueueObserver | undefined): void {
    this.gate.observe(observer);
  }

  private async verifySafely(hash: string, password: string): Promise<boolean> {
    try {
      return await this.binding.verify(hash, password);
    } catch {
      // A malformed stored hash is a failed check, not a 500.
      return false;
    }
  }
}
