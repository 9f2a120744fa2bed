import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database';

// A confidential client's secrets as they are read: their shapes, ids and listings. Changes are
// client-secret-store.ts's.

export const MAX_ACTIVE_SECRETS = 2;
/** The longest a rotated-out secret may keep working (CLIENT_SECRET_OVERLAP's bound too). */
export const MAX_SECRET_OVERLAP_SEC = 366 * 86400;

/** What authentication tries: the id (logged), the hash, the end (null: none). */
export interface ClientSecretRef {
  readonly id: string;
  readonly hash: string;
  readonly notAfter: Date | null;
}

/** What operators see of a secret: never its hash. */
export interface ClientSecretInfo {
  readonly id: string;
  readonly createdAt: Date;
  readonly notAfter: Date | null;
  readonly lastUsedAt: Date | null;
}

/** The secret id under which a hash written only by a previous release is tried and logged. */
export const LEGACY_SECRET_ID = 'legacy:clients.secret_hash';

const SECRET_ID = /^[A-Za-z0-9._~-]{1,64}$/;

/** A new public secret id: `cs_` and 12 base64url characters (72 random bits). */
export function newClientSecretId(): string {
  return `cs_${randomBytes(9).toString('base64url')}`;
}

/** Could this be a secret id? (Anything else names no secret and is never sent to the database.) */
export function isClientSecretId(id: string): boolean {
  return SECRET_ID.test(id);
}

/** Is the secret still accepted at `now` (ms)? */
export function isActiveSecret(secret: { readonly notAfter: Date | null }, now: number): boolean {
  return secret.notAfter === null || secret.notAfter.getTime() > now;
}

/**
 * The secrets authentication tries for a client row: those of the table, unless the legacy
 * column names none of them (a previous release replaced the secret): then that one alone.
 */
export function effectiveSecrets(secretHash: string | null, stored: readonly ClientSecretRef[]): readonly ClientSecretRef[] {
  if (secretHash === null || stored.some((secret) => secret.hash === secretHash)) return stored;
  return [{ id: LEGACY_SECRET_ID, hash: secretHash, notAfter: null }];
}

export interface SecretRow {
  id: string;
  client_id: string;
  secret_hash: string;
  created_at: Date | string;
  not_after: Date | string | null;
  last_used_at: Date | string | null;
}


export const date = (value: Date | string): Date => new Date(value);
export const optionalDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));
export const info = (row: SecretRow): ClientSecretInfo => ({ id: row.id, createdAt: date(row.created_at), notAfter: optionalDate(row.not_after), lastUsedAt: optionalDate(row.last_used_at) });
export const activeAt = (row: SecretRow, now: number): boolean => isActiveSecret({ notAfter: optionalDate(row.not_after) }, now);

/** A client's secrets, oldest first. */
export async function listClientSecrets(db: Database, clientId: string): Promise<ClientSecretInfo[]> {
  const rows = await db('client_secrets').where({ client_id: clientId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select<SecretRow[]>('*');
  return rows.map(info);
}

/** Every client's secrets (for listings), oldest first. */
export async function secretsByClient(db: Database): Promise<Map<string, ClientSecretInfo[]>> {
  const rows = await db('client_secrets').orderBy([{ column: 'client_id' }, { column: 'created_at' }, { column: 'id' }]).select<SecretRow[]>('*');
  const byClient = new Map<string, ClientSecretInfo[]>();
  for (const row of rows) byClient.set(row.client_id, [...(byClient.get(row.client_id) ?? []), info(row)]);
  return byClient;
}
