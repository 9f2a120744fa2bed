import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CredentialFields, Origin } from '../events/catalogue';
import { tryUsernameKey } from './usernames';

// What a failed or refused credential check writes to the log and the audit trail: the username
// or client id, never the credential, and not even the name when it may be a secret typed into
// the wrong field.

export type CredentialKind = 'login' | 'client_auth';

/** What an attempt is about, for the keys and the log (never a password or secret). */
export interface AttemptContext {
  /** The username as typed (its uniqueness key when it is a valid username), or the client id. */
  readonly name: string;
  readonly address: string | undefined;
  /** The client the attempt came through, for the log. */
  readonly clientId?: string | undefined;
  /** The request's id, for the events. */
  readonly requestId?: string | undefined;
  /**
   * False when the name is known to name nothing (an unknown client id or username): logged only
   * as a keyed hash. Unset (not known either way, e.g. before a password check): a username is
   * logged as typed only by the events that follow a check, never by login.throttled.
   */
  readonly known?: boolean | undefined;
}

// Keyed per process: a plain hash of a typed password could be reversed from the log with a
// dictionary; this one correlates attempts within one process's log and reveals nothing.
const NAME_HASH_KEY = randomBytes(32);
const keyedHash = (text: string): string => createHmac('sha256', NAME_HASH_KEY).update(text).digest('hex').slice(0, 16);

/**
 * The log fields of an attempt. Text that names no user or client, or cannot be a username (too
 * long, characters no username has), is often a password or secret typed into the wrong field:
 * it is logged as a short keyed hash, so it can still be correlated but not read.
 */
export function logFields(kind: CredentialKind, context: AttemptContext): CredentialFields & Origin & { readonly clientId?: string | undefined } {
  if (kind === 'client_auth') return { clientId: context.known === false ? `unknown:${keyedHash(context.name)}` : context.name.slice(0, 64), ip: context.address, requestId: context.requestId };
  const username = context.known === false || tryUsernameKey(context.name) === undefined ? { usernameHash: keyedHash(context.name) } : { username: context.name };
  return { ...username, clientId: context.clientId, ip: context.address, requestId: context.requestId };
}

/**
 * Names that named a user or client when they failed here, so a later refusal of the same name
 * (decided before any lookup) may log it as typed. A hint for the log, bounded; by the name's
 * uniqueness key, so every spelling of a username counts as the one name.
 */
export class KnownNames {
  private readonly names = new LRUCache<string, true>({ max: 10_000 });

  constructor(private readonly keyOf: (name: string) => string = (name) => tryUsernameKey(name) ?? name) {}

  note(name: string): void {
    this.names.set(this.keyOf(name), true);
  }

  has(name: string): boolean {
    return this.names.has(this.keyOf(name));
  }
}

// One set of known usernames per throttle store, that is per service's dependencies (tests build
// several in one process), without widening every caller's dependencies.
const knownUsernames = new WeakMap<object, KnownNames>();

export function knownNamesOf(owner: object): KnownNames {
  let names = knownUsernames.get(owner);
  if (names === undefined) {
    names = new KnownNames();
    knownUsernames.set(owner, names);
  }
  return names;
}
