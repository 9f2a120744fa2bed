import type { Database } from '../db/database';
import type { ClientSecretRef } from './client-secret-records';
import { setClientSecrets } from './client-secret-store';
import { hashClientSecret, verifyClientSecret } from './client-secrets';
import { createClient, findClient, updateClient, type ClientChanges, type ClientWithSecret, type NewClient } from './clients';
import { IdentityError } from './errors';
import { sameSet } from '../sets';

// One declared client made to match its declaration (clients as code, managed-clients.ts): its
// settings, its secrets and its mark. Every rule of what a client may be is createClient's,
// updateClient's and setClientSecrets'; this file only works out what differs.

/** A secret as declared: a hash to store as it is, or a secret (read from a mounted file) to hash. */
export type ManagedSecret = { readonly id: string; readonly notAfter: Date | null } & ({ readonly hash: string } | { readonly secret: string });

/**
 * A client as a file declares it: a new client's fields (clients.ts NewClient, so the two
 * cannot drift), every setting given (defaults filled in), and secrets by reference.
 */
export type ManagedClient = Required<Omit<NewClient, 'name' | 'secret'>> & {
  readonly name?: string | undefined;
  readonly secrets: readonly ManagedSecret[];
};

export interface ClientChange {
  readonly id: string;
  /** Settings whose value changes, and `secrets` / `managedBy`. */
  readonly fields: readonly string[];
  readonly secrets?: SecretChanges;
}

/** Secret ids only: never a secret or a hash. */
export interface SecretChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** The same id with another secret: the old one stops at once. */
  readonly replaced: readonly string[];
  /** The same secret with another notAfter. */
  readonly expiry: readonly string[];
}

type Setting = keyof ClientChanges;

// Every setting updateClient takes, compared on each apply: `satisfies` fails to compile when
// ClientChanges gains a field this table lacks, so a new setting cannot be silently skipped.
const SETTING_TABLE = {
  name: true,
  grantTypes: true,
  scopes: true,
  defaultScopes: true,
  audiences: true,
  corsOrigins: true,
  canIntrospect: true,
  redirectUris: true,
  postLogoutRedirectUris: true,
  requireConsent: true,
  refreshTokenTtlSec: true,
  refreshIdleTtlSec: true,
  refreshTokenInCookie: true,
} as const satisfies Record<Setting, true>;
const SETTINGS = Object.keys(SETTING_TABLE) as Setting[];

function settingsOf({ id, type: _type, secrets: _secrets, ...settings }: ManagedClient): Required<ClientChanges> {
  return { ...settings, name: settings.name ?? id };
}

const unique = (list: readonly string[]): string[] => [...new Set(list)];

/** The settings whose declared value differs from the stored one (lists as sets: stored lists are deduplicated, order carries no meaning). */
function changedSettings(current: ClientWithSecret, declared: ManagedClient): Setting[] {
  const wanted = settingsOf(declared);
  return SETTINGS.filter((setting) => {
    const [have, want] = [current[setting], wanted[setting]];
    if (Array.isArray(have) && Array.isArray(want)) return !sameSet(unique(have as readonly string[]), unique(want as readonly string[]));
    return have !== want;
  });
}

/**
 * Makes the client's secrets the declared ones (setClientSecrets), given those authentication
 * tries now (findClient's). A secret read from a file that an id already holds keeps its stored
 * hash, so an unchanged file changes nothing (a new salt would make it a new secret). Returns
 * what changes, or undefined when nothing does.
 */
async function syncSecrets(trx: Database, client: ManagedClient, stored: readonly ClientSecretRef[], now: Date, created: boolean): Promise<SecretChanges | undefined> {
  if (client.type !== 'confidential') return undefined;
  const current = new Map(stored.map((secret) => [secret.id, secret]));
  const declaredIds = new Set(client.secrets.map((secret) => secret.id));
  const changes = { added: [] as string[], removed: [...current.keys()].filter((id) => !declaredIds.has(id)), replaced: [] as string[], expiry: [] as string[] };
  const wanted = client.secrets.map((secret) => {
    const have = current.get(secret.id);
    const same = have !== undefined && ('hash' in secret ? have.hash === secret.hash : verifyClientSecret(secret.secret, have.hash));
    if (!have) changes.added.push(secret.id);
    else if (!same) changes.replaced.push(secret.id);
    else if (have.notAfter?.getTime() !== secret.notAfter?.getTime()) changes.expiry.push(secret.id);
    const hash = same ? have.hash : 'hash' in secret ? secret.hash : hashClientSecret(secret.secret);
    return { id: secret.id, hash, notAfter: secret.notAfter };
  });
  // A new client's set goes through setClientSecrets' rules even when its first secret is all of
  // it (one that has not ended, ids unique).
  if (!created && Object.values(changes).every((ids) => ids.length === 0)) return undefined;
  await setClientSecrets(trx, client.id, wanted, now, 'clients-file');
  return changes;
}

/**
 * Creates the client (a confidential one with its declared secrets, no generated one first), or
 * changes it to match; then its secrets and its mark. Runs in the apply's transaction.
 */
export async function applyOne(trx: Database, client: ManagedClient, mark: string | null, managedBy: string, now: Date): Promise<'created' | 'unchanged' | ClientChange> {
  const current = await findClient(trx, client.id);
  const fields: string[] = [];
  let secretsNow: readonly ClientSecretRef[] = current?.secrets ?? [];
  if (!current) {
    // A confidential client is made with its first declared secret; the rest follow below.
    const [first] = client.secrets;
    const firstSecret = client.type === 'confidential' && first ? { id: first.id, hash: 'hash' in first ? first.hash : hashClientSecret(first.secret), notAfter: first.notAfter } : undefined;
    await createClient(trx, { id: client.id, type: client.type, ...settingsOf(client) }, now, firstSecret ? { firstSecret } : {});
    secretsNow = firstSecret ? [firstSecret] : [];
  } else {
    if (current.type !== client.type) throw new IdentityError('invalid_client', `a client's type cannot change (${current.type} to ${client.type}): declare it under a new id`);
    const settings = changedSettings(current, client);
    if (settings.length > 0) {
      const wanted = settingsOf(client);
      await updateClient(trx, client.id, Object.fromEntries(settings.map((setting) => [setting, wanted[setting]])) as ClientChanges, now, 'clients-file');
    }
    fields.push(...settings);
  }
  const secrets = await syncSecrets(trx, client, secretsNow, now, !current);
  if (secrets) fields.push('secrets');
  if (mark !== managedBy) {
    await trx('clients').where({ id: client.id }).update({ managed_by: managedBy });
    fields.push('managedBy');
  }
  if (!current) return 'created';
  return fields.length === 0 ? 'unchanged' : { id: client.id, fields, ...(secrets ? { secrets } : {}) };
}
