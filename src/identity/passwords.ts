import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import type { Argon2Settings } from '../config/config';
import { Semaphore } from './semaphore';

/** The argon2 operations we use; one small seam so the binding can be swapped or observed. */
export interface Argon2Binding {
  hash(password: string, options: { memoryCost: number; timeCost: number; parallelism: number }): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  needsRehash(hash: string, options: { memoryCost: number; timeCost: number; parallelism: number }): boolean;
}

/** The `argon2` package: hashing runs on libuv's threadpool, off the event loop. */
export const nodeArgon2: Argon2Binding = {
  hash: (password, options) => argon2.hash(password, { ...options, type: argon2.argon2id }),
  verify: (hash, password) => argon2.verify(hash, password),
  needsRehash: (hash, options) => argon2.needsRehash(hash, options),
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
 * and verification also use.
 */
export class Passwords {
  private readonly gate: Semaphore;
  private readonly options: { memoryCost: number; timeCost: number; parallelism: number };
  private dummyHash: Promise<string> | undefined;

  constructor(
    settings: Argon2Settings,
    private readonly binding: Argon2Binding = nodeArgon2,
  ) {
    this.gate = new Semaphore(settings.maxConcurrent, settings.maxQueue);
    this.options = { memoryCost: settings.memoryKib, timeCost: settings.timeCost, parallelism: settings.parallelism };
  }

  async hash(password: string): Promise<string> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new RangeError('password too long');
    return this.gate.run(() => this.binding.hash(normalisePassword(password), this.options));
  }

  /** Checks a password against a stored hash; returns a fresh hash when parameters changed. */
  async check(storedHash: string, password: string): Promise<PasswordCheck> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
      // Never hashed, but still costs what a real check costs (see checkUnknownUser).
      await this.checkUnknownUser(password.slice(0, 64));
      return { ok: false };
    }
    const normalised = normalisePassword(password);
    const ok = await this.gate.run(() => this.verifySafely(storedHash, normalised));
    if (!ok || !this.binding.needsRehash(storedHash, this.options)) return { ok };
    return { ok, rehashed: await this.hash(password) };
  }

  /**
   * The check for a username that does not exist: one argon2 verify against a dummy hash with
   * the current parameters, so the answer costs what a wrong password costs and response time
   * does not reveal which usernames exist. Always false.
   */
  async checkUnknownUser(password: string): Promise<false> {
    this.dummyHash ??= this.gate.run(() => this.binding.hash(randomBytes(32).toString('base64url'), this.options));
    const dummy = await this.dummyHash;
    await this.gate.run(() => this.verifySafely(dummy, normalisePassword(password)));
    return false;
  }

  /** Hashes queued or running right now (for the benchmark and overload decisions). */
  get pending(): number {
    return this.gate.pending;
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
