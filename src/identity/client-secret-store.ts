import type { Knex } from 'knex';
import type { Database } from '../db/database';
import { activeAt, date, info, isActiveSecret, isClientSecretId, MAX_ACTIVE_SECRETS, MAX_SECRET_OVERLAP_SEC, newClientSecretId, optionalDate, type ClientSecretInfo, type SecretRow } from './client-secret-records';
import { generateClientSecret, hashClientSecret, isClientSecretHash, MIN_SECRET_LENGTH } from './client-secrets';
import { lockClientRow, type ChangedBy } from './client-manager';
import { IdentityError } from './errors';

// A confidential client's secrets (table client_secrets, migration 0003). It holds at most two
// active ones, so a rotation can overlap: the new secret works at once, the old one until its
// `notAfter`, and the services using it move over in their own time.
//
// Rolling upgrade: a release before 0003 reads only `clients.secret_hash`. Every change here
// writes the newest active secret's hash there too (mirrorNewest), so such an instance accepts
// the newest secret. And when that column names no secret of the table, a previous release
// replaced the secret (its rotation, or a client it created): that hash is then the client's
// only secret, as the previous release meant (see effectiveSecrets and adoptLegacySecret).

interface LockedClient {
  id: string;
  type: string;
  secret_hash: string | null;
  secret_rotated_at: Date | string | null;
  created_at: Date | string;
}


/**
 * Locks the client's row for the change (concurrent rotations queue) and returns its secrets.
 * A client a clients file manages is refused unless its apply makes the change (client-manager.ts).
 */
async function lockConfidential(trx: Knex.Transaction, clientId: string, by: ChangedBy = 'hand'): Promise<SecretRow[]> {
  const client = await lockClientRow<LockedClient>(trx, clientId, by);
  if (!client) throw new IdentityError('unknown_client', `no such client: ${clientId}`);
  if (client.type !== 'confidential') throw new IdentityError('invalid_client', 'a public client has no secrets');
  const rows = await trx('client_secrets').where({ client_id: clientId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select<SecretRow[]>('*');
  return adoptLegacySecret(trx, client, rows);
}

/** A secret a previous release wrote only to clients.secret_hash replaces the table's (see top). */
async function adoptLegacySecret(trx: Knex.Transaction, client: LockedClient, rows: SecretRow[]): Promise<SecretRow[]> {
  if (client.secret_hash === null || rows.some((row) => row.secret_hash === client.secret_hash)) return rows;
  await trx('client_secrets').where({ client_id: client.id }).delete();
  const adopted: SecretRow = { id: newClientSecretId(), client_id: client.id, secret_hash: client.secret_hash, created_at: client.secret_rotated_at ?? client.created_at, not_after: null, last_used_at: null };
  await trx('client_secrets').insert(adopted);
  return [adopted];
}

/**
 * Writes the newest active secret's hash where a previous release reads it (see top): of the
 * secrets working now, the one that works longest (no end first), then the latest created.
 */
async function mirrorNewest(trx: Knex.Transaction, clientId: string, now: Date, rotated: boolean): Promise<void> {
  const rows = await trx('client_secrets').where({ client_id: clientId }).select<SecretRow[]>('*');
  const rank = (row: SecretRow): [number, number, number] => [
    activeAt(row, now.getTime()) ? 1 : 0,
    row.not_after === null ? Number.POSITIVE_INFINITY : date(row.not_after).getTime(),
    date(row.created_at).getTime(),
  ];
  const newer = (a: SecretRow, b: SecretRow): number => {
    const [x, y] = [rank(a), rank(b)];
    return y[0] - x[0] || (y[1] === x[1] ? 0 : y[1] > x[1] ? 1 : -1) || y[2] - x[2] || (a.id < b.id ? 1 : -1);
  };
  const [newest] = [...rows].sort(newer);
  if (!newest) return;
  await trx('clients')
    .where({ id: clientId })
    .update({ secret_hash: newest.secret_hash, updated_at: now, ...(rotated ? { secret_rotated_at: now } : {}) });
}

function tooMany(clientId: string, active: readonly SecretRow[]): never {
  throw new IdentityError(
    'too_many_secrets',
    `client ${clientId} already has ${active.length} active secrets (${active.map((row) => row.id).join(', ')}), at most ${MAX_ACTIVE_SECRETS}: remove one first, or let the old ones end now (keep-old-for 0)`,
  );
}

function hashOf(input: { readonly secret?: string | undefined; readonly hash?: string | undefined }): { hash: string; generated?: string } {
  if (input.secret !== undefined && input.hash !== undefined) throw new IdentityError('invalid_client', 'give a secret or its hash, not both');
  if (input.hash !== undefined) {
    if (!isClientSecretHash(input.hash)) throw new IdentityError('invalid_client', 'not a client secret hash (hmac-sha256$salt$digest, as portcullis writes them)');
    return { hash: input.hash };
  }
  if (input.secret !== undefined) {
    if (input.secret.length < MIN_SECRET_LENGTH) throw new IdentityError('invalid_client', `a client secret must be at least ${MIN_SECRET_LENGTH} characters`);
    return { hash: hashClientSecret(input.secret) };
  }
  const generated = generateClientSecret();
  return { hash: hashClientSecret(generated), generated };
}

export interface NewClientSecret {
  /** Use this secret (at least 32 characters); never returned. */
  readonly secret?: string | undefined;
  /** Or store this hash (hashClientSecret's format). Neither: a secret is generated and returned. */
  readonly hash?: string | undefined;
  readonly notAfter?: Date | null | undefined;
}

/**
 * Adds a secret to a confidential client, leaving its others as they are; refused when the
 * client would hold more than two active secrets. Expired secrets are dropped here (they are
 * listed until the next change). Returns the new id, and the secret when it was generated.
 */
export async function addClientSecret(db: Database, clientId: string, input: NewClientSecret, now: Date): Promise<{ id: string; secret?: string }> {
  const { hash, generated } = hashOf(input);
  const notAfter = input.notAfter ?? null;
  if (notAfter !== null && notAfter.getTime() <= now.getTime()) throw new IdentityError('invalid_client', 'a new secret must not have ended already');
  return db.transaction(async (trx) => {
    const rows = await lockConfidential(trx, clientId);
    await trx('client_secrets').where({ client_id: clientId }).where('not_after', '<=', now).delete();
    const active = rows.filter((row) => activeAt(row, now.getTime()));
    if (active.length + 1 > MAX_ACTIVE_SECRETS) tooMany(clientId, active);
    const id = newClientSecretId();
    await trx('client_secrets').insert({ id, client_id: clientId, secret_hash: hash, created_at: now, not_after: notAfter });
    await mirrorNewest(trx, clientId, now, true);
    return generated === undefined ? { id } : { id, secret: generated };
  });
}

export interface RotatedSecret {
  readonly id: string;
  readonly secret: string;
  /** When the last of the client's previous secrets stops working; null when none worked. */
  readonly oldSecretExpiresAt: Date | null;
}

/**
 * Rotation with overlap: a generated secret is added, and each previous active secret ends
 * `keepOldForSec` from now (or sooner, if it already ended sooner; 0: at once). Refused when
 * more than two would then be active: the operator removes one first.
 */
export async function rotateClientSecret(db: Database, clientId: string, { keepOldForSec }: { readonly keepOldForSec: number }, now: Date): Promise<RotatedSecret> {
  const end = new Date(now.getTime() + keepOldForSec * 1000);
  const secret = generateClientSecret();
  return db.transaction(async (trx) => {
    const rows = await lockConfidential(trx, clientId);
    await trx('client_secrets').where({ client_id: clientId }).where('not_after', '<=', now).delete();
    const previous = rows.filter((row) => activeAt(row, now.getTime()));
    const ends = previous.map((row) => ({ row, notAfter: row.not_after !== null && date(row.not_after) < end ? date(row.not_after) : end }));
    const stillActive = ends.filter(({ notAfter }) => notAfter.getTime() > now.getTime());
    if (stillActive.length + 1 > MAX_ACTIVE_SECRETS) tooMany(clientId, previous);
    for (const { row, notAfter } of ends) await trx('client_secrets').where({ id: row.id }).update({ not_after: notAfter });
    const id = newClientSecretId();
    await trx('client_secrets').insert({ id, client_id: clientId, secret_hash: hashClientSecret(secret), created_at: now, not_after: null });
    await mirrorNewest(trx, clientId, now, true);
    const latest = ends.reduce<Date | null>((max, { notAfter }) => (max === null || notAfter > max ? notAfter : max), null);
    return { id, secret, oldSecretExpiresAt: latest };
  });
}

/** Refused when no other secret of the client would still work at `at`. */
function keepOneWorking(clientId: string, rows: readonly SecretRow[], secretId: string, at: number): void {
  if (!rows.some((row) => row.id !== secretId && activeAt(row, at))) {
    throw new IdentityError('last_secret', `${secretId} is the only working secret of client ${clientId}: rotate first (with keep-old-for 0 to end it at once)`);
  }
}

/**
 * Ends a secret at `at` (now, or later); `now` is when the change is made. An end only moves
 * earlier: a secret that ends sooner already, or has ended, keeps its end (an ended secret is
 * never brought back past the two-secret limit). Refused for the client's last working secret.
 * False when the client has no such secret.
 */
export async function expireClientSecret(db: Database, clientId: string, secretId: string, at: Date, now: Date): Promise<boolean> {
  if (!isClientSecretId(secretId)) return false;
  return db.transaction(async (trx) => {
    const rows = await lockConfidential(trx, clientId);
    const row = rows.find((candidate) => candidate.id === secretId);
    if (!row) return false;
    if (row.not_after !== null && date(row.not_after).getTime() <= at.getTime()) return true;
    keepOneWorking(clientId, rows, secretId, at.getTime());
    await trx('client_secrets').where({ id: secretId, client_id: clientId }).update({ not_after: at });
    await mirrorNewest(trx, clientId, now, false);
    return true;
  });
}

/** When the last of these secrets stops working (Infinity: one never does). */
function lastsUntil(rows: readonly SecretRow[], now: number): number {
  return Math.max(-Infinity, ...rows.filter((row) => activeAt(row, now)).map((row) => (row.not_after === null ? Infinity : date(row.not_after).getTime())));
}

/**
 * Deletes a secret: it stops working now. Refused for the client's last working secret, and for
 * one whose removal would leave only secrets that end sooner (the new secret of an overlap: the
 * client would lock itself out when the old one ends; rotate again instead).
 */
export async function removeClientSecret(db: Database, clientId: string, secretId: string, now: Date): Promise<boolean> {
  if (!isClientSecretId(secretId)) return false;
  return db.transaction(async (trx) => {
    const rows = await lockConfidential(trx, clientId);
    if (!rows.some((row) => row.id === secretId)) return false;
    keepOneWorking(clientId, rows, secretId, now.getTime());
    const rest = rows.filter((row) => row.id !== secretId);
    const until = lastsUntil(rest, now.getTime());
    if (until < lastsUntil(rows, now.getTime())) {
      throw new IdentityError('last_secret', `removing ${secretId} would leave client ${clientId} only secrets that end by ${new Date(until).toISOString()}: rotate first, then remove the older one`);
    }
    await trx('client_secrets').where({ id: secretId, client_id: clientId }).delete();
    await mirrorNewest(trx, clientId, now, false);
    return true;
  });
}

/**
 * Makes the client's secrets exactly these (clients as code): ids kept keep their creation and
 * last use (unless their hash changes: then it is a new secret), ids not listed are deleted.
 * Refused unless one to two are active at `now`, or when an id belongs to another client.
 */
export async function setClientSecrets(db: Database, clientId: string, secrets: ReadonlyArray<{ id: string; hash: string; notAfter: Date | null }>, now: Date, by: ChangedBy = 'hand'): Promise<{ changed: boolean }> {
  const ids = new Set<string>();
  for (const secret of secrets) {
    if (!isClientSecretId(secret.id)) throw new IdentityError('invalid_client', `not a secret id (1-64 characters of A-Z a-z 0-9 . _ ~ -): ${secret.id}`);
    if (ids.has(secret.id)) throw new IdentityError('invalid_client', `secret id listed twice: ${secret.id}`);
    if (!isClientSecretHash(secret.hash)) throw new IdentityError('invalid_client', `secret ${secret.id}: not a client secret hash`);
    ids.add(secret.id);
  }
  const active = secrets.filter((secret) => isActiveSecret(secret, now.getTime()));
  if (active.length === 0) throw new IdentityError('last_secret', `client ${clientId} needs at least one secret that has not ended`);
  if (active.length > MAX_ACTIVE_SECRETS) throw new IdentityError('too_many_secrets', `client ${clientId}: at most ${MAX_ACTIVE_SECRETS} active secrets (${active.map((secret) => secret.id).join(', ')})`);
  return db.transaction(async (trx) => {
    const rows = await lockConfidential(trx, clientId, by);
    const taken = await trx('client_secrets').whereIn('id', [...ids]).whereNot({ client_id: clientId }).pluck<string[]>('id');
    if (taken.length > 0) throw new IdentityError('invalid_client', `secret id already used by another client: ${taken.join(', ')}`);
    const current = new Map(rows.map((row) => [row.id, row]));
    let changed = false;
    let added = false;
    const gone = rows.filter((row) => !ids.has(row.id)).map((row) => row.id);
    if (gone.length > 0) {
      await trx('client_secrets').whereIn('id', gone).delete();
      changed = true;
    }
    for (const secret of secrets) {
      const row = current.get(secret.id);
      if (!row) {
        await trx('client_secrets').insert({ id: secret.id, client_id: clientId, secret_hash: secret.hash, created_at: now, not_after: secret.notAfter });
        changed = added = true;
      } else if (row.secret_hash !== secret.hash) {
        await trx('client_secrets').where({ id: secret.id }).update({ secret_hash: secret.hash, created_at: now, not_after: secret.notAfter, last_used_at: null });
        changed = added = true;
      } else if (optionalDate(row.not_after)?.getTime() !== secret.notAfter?.getTime()) {
        await trx('client_secrets').where({ id: secret.id }).update({ not_after: secret.notAfter });
        changed = true;
      }
    }
    if (changed) await mirrorNewest(trx, clientId, now, added);
    return { changed };
  });
}
