import type { Database } from '../db/database';
import { revokeClientTokens, type ClientLifecycleDeps } from './client-lifecycle';
import { effectiveSecrets, type ClientSecretRef } from './client-secret-records';
import { setClientSecrets } from './client-secret-store';
import { hashClientSecret, verifyClientSecret } from './client-secrets';
import { createClient, deleteClient, isValidClientId, listClients, updateClient, type Client, type ClientChanges, type NewClient } from './clients';
import { IdentityError } from './errors';
import { sameSet } from '../sets';

// Clients as code (issue 15): the clients a file declares are made to match it in one
// transaction. Every rule of what a client may be is createClient's and updateClient's; this
// module decides only what to create, change and prune, and marks the clients it manages
// (`clients.managed_by`), which the admin API and the CLI then refuse to change.

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

export interface ApplyResult {
  readonly dryRun: boolean;
  readonly created: readonly string[];
  readonly changed: readonly ClientChange[];
  readonly unchanged: readonly string[];
  readonly pruned: readonly string[];
  /** Managed clients the file no longer declares, kept (no prune) and no longer managed. */
  readonly released: readonly string[];
}

export interface ApplyOptions {
  /** What `managed_by` names: the file's top-level `name`, else its absolute path. Prune and release touch only clients with this mark. */
  readonly managedBy: string;
  /** Delete managed clients the file no longer declares (otherwise they are released: kept, unmanaged). */
  readonly prune: boolean;
  /** Work it all out, in the transaction, then roll it back. */
  readonly dryRun: boolean;
}

export type ManagedClientsDeps = ClientLifecycleDeps & { readonly db: Database };

const SETTINGS = [
  'name',
  'grantTypes',
  'scopes',
  'defaultScopes',
  'audiences',
  'corsOrigins',
  'canIntrospect',
  'redirectUris',
  'postLogoutRedirectUris',
  'requireConsent',
  'refreshTokenTtlSec',
  'refreshIdleTtlSec',
  'refreshTokenInCookie',
] as const satisfies ReadonlyArray<keyof ClientChanges>;

type Setting = (typeof SETTINGS)[number];

function settingsOf({ id, type: _type, secrets: _secrets, ...settings }: ManagedClient): Required<Pick<ClientChanges, Setting>> {
  return { ...settings, name: settings.name ?? id };
}

const unique = (list: readonly string[]): string[] => [...new Set(list)];

/** The settings whose declared value differs from the stored one (lists as sets: stored lists are deduplicated, order carries no meaning). */
function changedSettings(current: Client, declared: ManagedClient): Setting[] {
  const wanted = settingsOf(declared);
  return SETTINGS.filter((setting) => {
    const [have, want] = [current[setting], wanted[setting]];
    if (Array.isArray(have) && Array.isArray(want)) return !sameSet(unique(have as readonly string[]), unique(want as readonly string[]));
    return have !== want;
  });
}

interface StoredSecretRow {
  id: string;
  secret_hash: string;
  not_after: Date | string | null;
}

/** The secrets authentication tries now for the client (client-secret-store.ts), with their hashes. */
async function currentSecrets(trx: Database, clientId: string): Promise<readonly ClientSecretRef[]> {
  const row = await trx('clients').where({ id: clientId }).first<{ secret_hash: string | null } | undefined>('secret_hash');
  const stored = await trx('client_secrets').where({ client_id: clientId }).select<StoredSecretRow[]>('id', 'secret_hash', 'not_after');
  return effectiveSecrets(
    row?.secret_hash ?? null,
    stored.map((secret) => ({ id: secret.id, hash: secret.secret_hash, notAfter: secret.not_after === null ? null : new Date(secret.not_after) })),
  );
}

/**
 * Makes the client's secrets the declared ones (setClientSecrets). A secret read from a file
 * that an id already holds keeps its stored hash, so an unchanged file changes nothing (a new
 * salt would make it a new secret). Returns what changes, or undefined when nothing does.
 */
async function syncSecrets(trx: Database, client: ManagedClient, now: Date): Promise<SecretChanges | undefined> {
  if (client.type !== 'confidential') return undefined;
  const current = new Map((await currentSecrets(trx, client.id)).map((secret) => [secret.id, secret]));
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
  if (Object.values(changes).every((ids) => ids.length === 0)) return undefined;
  await setClientSecrets(trx, client.id, wanted, now);
  return changes;
}

/** One database's lock for applying clients files: instances starting together apply one after another. */
const APPLY_LOCK = "hashtext('portcullis:clients-file')";

/** Thrown inside the transaction to roll a dry run back; carries what it would have done. */
class DryRun extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run');
  }
}

/** A rule broken by one declared client: its place and id lead the message. */
function forClient(index: number, id: string, error: unknown): unknown {
  if (error instanceof IdentityError) return new IdentityError(error.code, `clients[${index}] (${id}): ${error.message}`);
  return error;
}

/** Creates the client, or changes it to match; then its secrets and its mark. */
async function applyOne(trx: Database, client: ManagedClient, current: Client | undefined, mark: string | null, managedBy: string, now: Date): Promise<'created' | 'unchanged' | ClientChange> {
  const fields: string[] = [];
  if (!current) {
    await createClient(trx, { id: client.id, type: client.type, ...settingsOf(client) }, now);
  } else {
    if (current.type !== client.type) throw new IdentityError('invalid_client', `a client's type cannot change (${current.type} to ${client.type}): declare it under a new id`);
    const settings = changedSettings(current, client);
    if (settings.length > 0) {
      const wanted = settingsOf(client);
      await updateClient(trx, client.id, Object.fromEntries(settings.map((setting) => [setting, wanted[setting]])) as ClientChanges, now);
    }
    fields.push(...settings);
  }
  const secrets = await syncSecrets(trx, client, now);
  if (secrets) fields.push('secrets');
  if (mark !== managedBy) {
    await trx('clients').where({ id: client.id }).update({ managed_by: managedBy });
    fields.push('managedBy');
  }
  if (!current) return 'created';
  return fields.length === 0 ? 'unchanged' : { id: client.id, fields, ...(secrets ? { secrets } : {}) };
}

/**
 * Makes the declared clients exist as declared, in one transaction: created, or changed to
 * match (the settings and the secrets), and marked as managed by `managedBy`. A client that
 * breaks a rule refuses the whole set (IdentityError, nothing written). Clients marked with this
 * `managedBy` that the set no longer declares are deleted with `prune` (their tokens revoked
 * first), else released. Clients made by hand, or managed by another mark, are never touched
 * unless declared.
 */
export async function applyManagedClients(deps: ManagedClientsDeps, declared: readonly ManagedClient[], options: ApplyOptions): Promise<ApplyResult> {
  const now = new Date(deps.clock.now());
  try {
    return await deps.db.transaction(async (trx) => {
      await trx.raw(`select pg_advisory_xact_lock(${APPLY_LOCK})`);
      const existing = new Map((await listClients(trx)).map((client) => [client.id, client]));
      const marks = new Map((await trx('clients').select<Array<{ id: string; managed_by: string | null }>>('id', 'managed_by')).map((row) => [row.id, row.managed_by]));
      const created: string[] = [];
      const changed: ClientChange[] = [];
      const unchanged: string[] = [];
      for (const [index, client] of declared.entries()) {
        const outcome = await applyOne(trx, client, existing.get(client.id), marks.get(client.id) ?? null, options.managedBy, now).catch((error: unknown) => {
          throw forClient(index, client.id, error);
        });
        if (outcome === 'created') created.push(client.id);
        else if (outcome === 'unchanged') unchanged.push(client.id);
        else changed.push(outcome);
      }
      const declaredIds = new Set(declared.map((client) => client.id));
      // Only this file's clients: another file's (or another mark's) are that file's business.
      const dropped = [...marks].filter(([id, mark]) => mark === options.managedBy && !declaredIds.has(id)).map(([id]) => id);
      const pruned = options.prune ? dropped : [];
      for (const id of pruned) {
        // client-lifecycle.ts: the tokens end before the row goes. Not in a dry run: the
        // revocation is in the token store, outside this transaction.
        if (!options.dryRun) await revokeClientTokens(deps, id);
        await deleteClient(trx, id);
      }
      // Without prune a client dropped from the file stays, and is no longer the file's: the
      // admin API and the CLI may change or delete it again.
      const released = options.prune ? [] : dropped;
      if (released.length > 0) await trx('clients').whereIn('id', released).update({ managed_by: null });
      const result: ApplyResult = { dryRun: options.dryRun, created, changed, unchanged, pruned, released };
      if (options.dryRun) throw new DryRun(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    throw error;
  }
}

/** Where the admin API and the CLI ask: the file that manages this client, if one does. */
export async function clientManager(db: Database, id: string): Promise<string | undefined> {
  if (!isValidClientId(id)) return undefined;
  const row = await db('clients').where({ id }).first<{ managed_by: string | null } | undefined>('managed_by');
  return row?.managed_by ?? undefined;
}

/**
 * Refuses a change of a client that a clients file manages: the next apply of the file would
 * undo it, so the change belongs in the file (409 in the admin API).
 */
export async function refuseManagedClient(db: Database, id: string): Promise<void> {
  const file = await clientManager(db, id);
  if (file !== undefined) throw new IdentityError('managed_client', `client ${id} is managed by the clients file ${file}: change it there`);
}
