import type { Database } from '../db/database';
import { effectiveSecrets, isClientSecretId, newClientSecretId, type ClientSecretRef } from './client-secret-records';
import { generateClientSecret, hashClientSecret, isClientSecretHash, MIN_SECRET_LENGTH } from './client-secrets';
import { lockClientRow, type ChangedBy } from './client-manager';
import { signInSettingsProblems } from './client-sign-in';
import { IdentityError } from './errors';
import { looksLikeUserId } from './ids';
import { hasScope, isValidScope } from './scopes';

export const GRANT_TYPES = ['authorization_code', 'password', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export type ClientType = 'confidential' | 'public';

export interface Client {
  readonly id: string;
  readonly name: string;
  readonly type: ClientType;
  readonly grantTypes: readonly GrantType[];
  /** Scopes the client may ever be granted. */
  readonly scopes: readonly string[];
  /** Granted when a request names no scope. */
  readonly defaultScopes: readonly string[];
  /** Values the client may ask for as `resource` / token `aud` (RFC 8707). */
  readonly audiences: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly canIntrospect: boolean;
  /** Where the authorization endpoint may send the user back (identity/redirect-uris.ts); exact strings. */
  readonly redirectUris: readonly string[];
  /** Where the logout endpoint may send the user back (RP-initiated logout); exact strings. */
  readonly postLogoutRedirectUris: readonly string[];
  /** Ask the user before the first authorization of each scope (a third-party client). */
  readonly requireConsent: boolean;
  /** The client's own refresh-token lifetimes in seconds; null: the service's default. */
  readonly refreshTokenTtlSec: number | null;
  readonly refreshIdleTtlSec: number | null;
  /** The refresh token travels in an HttpOnly cookie, not in the token response body. */
  readonly refreshTokenInCookie: boolean;
  readonly createdAt: Date;
  readonly secretRotatedAt: Date | null;
}

export interface ClientWithSecret extends Client {
  /** A confidential client's secrets (client-secret-store.ts), ended ones included: authentication
   *  tries those whose notAfter is still ahead. None for a public client. */
  readonly secrets: readonly ClientSecretRef[];
}

interface ClientRow {
  id: string;
  name: string;
  type: ClientType;
  secret_hash: string | null;
  grant_types: GrantType[];
  scopes: string[];
  default_scopes: string[];
  audiences: string[];
  cors_origins: string[];
  can_introspect: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  require_consent: boolean;
  refresh_token_ttl_sec: number | null;
  refresh_idle_ttl_sec: number | null;
  refresh_token_in_cookie: boolean;
  created_at: Date | string;
  secret_rotated_at: Date | string | null;
}

/** A secret as the client query aggregates it (JSON: timestamps are strings). */
interface SecretJson {
  id: string;
  hash: string;
  notAfter: string | null;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;

/** Could this be a client id? (Anything else names no client and is never sent to the database.) */
export function isValidClientId(id: string): boolean {
  return CLIENT_ID.test(id);
}

function fromRow(row: ClientRow, secrets: readonly SecretJson[] = []): ClientWithSecret {
  const stored = secrets.map((secret) => ({ id: secret.id, hash: secret.hash, notAfter: secret.notAfter === null ? null : new Date(secret.notAfter) }));
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    secrets: row.type === 'confidential' ? effectiveSecrets(row.secret_hash, stored) : [],
    grantTypes: row.grant_types,
    scopes: row.scopes,
    defaultScopes: row.default_scopes,
    audiences: row.audiences,
    corsOrigins: row.cors_origins,
    canIntrospect: row.can_introspect,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    requireConsent: row.require_consent,
    refreshTokenTtlSec: row.refresh_token_ttl_sec,
    refreshIdleTtlSec: row.refresh_idle_ttl_sec,
    refreshTokenInCookie: row.refresh_token_in_cookie,
    createdAt: new Date(row.created_at),
    secretRotatedAt: row.secret_rotated_at === null ? null : new Date(row.secret_rotated_at),
  };
}

export function publicClient({ secrets: _secrets, ...client }: ClientWithSecret): Client {
  return client;
}

export interface NewClient {
  readonly id: string;
  readonly name?: string | undefined;
  readonly type: ClientType;
  /** For a confidential client: use this secret (at least 32 characters) instead of a generated one. */
  readonly secret?: string | undefined;
  readonly grantTypes: readonly string[];
  readonly scopes: readonly string[];
  readonly defaultScopes?: readonly string[];
  readonly audiences?: readonly string[];
  readonly corsOrigins?: readonly string[];
  readonly canIntrospect?: boolean;
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly requireConsent?: boolean;
  readonly refreshTokenTtlSec?: number | null;
  readonly refreshIdleTtlSec?: number | null;
  readonly refreshTokenInCookie?: boolean;
}

function invalid(message: string): never {
  throw new IdentityError('invalid_client', message);
}

function validate(input: NewClient): void {
  if (!CLIENT_ID.test(input.id)) invalid('client id must be 1-64 characters of A-Z a-z 0-9 . _ ~ -');
  if (input.type !== 'confidential' && input.type !== 'public') invalid('client type must be confidential or public');
  const unknownGrants = input.grantTypes.filter((grant) => !(GRANT_TYPES as readonly string[]).includes(grant));
  if (unknownGrants.length > 0) invalid(`unknown grant type: ${unknownGrants.join(', ')} (known: ${GRANT_TYPES.join(', ')})`);
  if (input.grantTypes.length === 0) invalid('a client needs at least one grant type');
  // RFC 6749 §4.4: client_credentials needs a client that can authenticate.
  if (input.type === 'public' && input.grantTypes.includes('client_credentials')) invalid('a public client cannot use client_credentials');
  if (input.type === 'public' && input.secret !== undefined) invalid('a public client has no secret');
  if (input.secret !== undefined && input.secret.length < MIN_SECRET_LENGTH) invalid(`a client secret must be at least ${MIN_SECRET_LENGTH} characters`);
  const badScopes = [...input.scopes, ...(input.defaultScopes ?? [])].filter((scope) => !isValidScope(scope));
  if (badScopes.length > 0) throw new IdentityError('invalid_scope', `invalid scope: ${badScopes.join(', ')}`);
  const outside = (input.defaultScopes ?? []).filter((scope) => !hasScope(input.scopes, scope));
  if (outside.length > 0) throw new IdentityError('invalid_scope', `default scopes must be within the allowed scopes: ${outside.join(', ')}`);
  for (const origin of input.corsOrigins ?? []) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) invalid(`not an origin (scheme://host[:port]): ${origin}`);
  }
  for (const audience of input.audiences ?? []) if (!/^\S{1,256}$/.test(audience)) invalid(`invalid audience: ${audience}`);
  const signIn = signInSettingsProblems(input);
  if (signIn.length > 0) invalid(signIn.join('; '));
}

/** A confidential client's first secret as its caller already holds it: id, hash and end. */
export interface FirstSecret {
  readonly id: string;
  readonly hash: string;
  readonly notAfter: Date | null;
}

/**
 * Creates a client, and a confidential client's first secret; returns it with the plain secret
 * (when generated: it is never stored or shown again) and the secret's id. `firstSecret`: that
 * secret as given, not a generated one (clients as code declares its secrets: managed-client-sync.ts).
 */
export async function createClient(db: Database, input: NewClient, now: Date, { firstSecret }: { readonly firstSecret?: FirstSecret } = {}): Promise<{ client: Client; secret?: string; secretId?: string }> {
  validate(input);
  // A client's own tokens carry its id as `sub`; it must never name a user (stored ones are
  // reported by `portcullis migrate`, see identity/stored-check.ts).
  if (looksLikeUserId(input.id)) invalid('a client id must not look like a user id (a UUID)');
  if (firstSecret && (input.type !== 'confidential' || input.secret !== undefined)) invalid('a first secret is for a confidential client without a secret of its own');
  if (firstSecret && (!isClientSecretId(firstSecret.id) || !isClientSecretHash(firstSecret.hash))) invalid(`not a secret id and hash: ${firstSecret.id}`);
  const secret = input.type === 'confidential' && !firstSecret ? (input.secret ?? generateClientSecret()) : undefined;
  const secretHash = firstSecret?.hash ?? (secret === undefined ? null : hashClientSecret(secret));
  const secretId = firstSecret?.id ?? (secret === undefined ? undefined : newClientSecretId());
  const row = await db.transaction(async (trx) => {
    const [inserted] = await trx('clients')
      .insert({
        id: input.id,
        name: input.name ?? input.id,
        type: input.type,
        // Also where a release before migration 0003 reads it (client-secret-store.ts).
        secret_hash: secretHash,
        grant_types: [...new Set(input.grantTypes)],
        scopes: [...new Set(input.scopes)],
        default_scopes: [...new Set(input.defaultScopes ?? [])],
        audiences: [...new Set(input.audiences ?? [])],
        cors_origins: [...new Set(input.corsOrigins ?? [])],
        can_introspect: input.canIntrospect ?? false,
        redirect_uris: [...new Set(input.redirectUris ?? [])],
        post_logout_redirect_uris: [...new Set(input.postLogoutRedirectUris ?? [])],
        require_consent: input.requireConsent ?? false,
        refresh_token_ttl_sec: input.refreshTokenTtlSec ?? null,
        refresh_idle_ttl_sec: input.refreshIdleTtlSec ?? null,
        refresh_token_in_cookie: input.refreshTokenInCookie ?? false,
        secret_rotated_at: secretHash === null ? null : now,
        created_at: now,
        updated_at: now,
      })
      .onConflict('id')
      .ignore()
      .returning<ClientRow[]>('*');
    if (inserted && firstSecret && (await trx('client_secrets').where({ id: firstSecret.id }).first('id'))) invalid(`secret id already used by another client: ${firstSecret.id}`);
    if (inserted && secretHash !== null) await trx('client_secrets').insert({ id: secretId, client_id: input.id, secret_hash: secretHash, created_at: now, not_after: firstSecret?.notAfter ?? null });
    return inserted;
  });
  if (!row) throw new IdentityError('duplicate_client', `client id already exists: ${input.id}`);
  const client = publicClient(fromRow(row));
  if (secret === undefined) return secretId === undefined ? { client } : { client, secretId };
  return { client, secretId, ...(input.secret === undefined ? { secret } : {}) };
}

/** A client with its secrets, in one query (the client cache's miss: one round trip). */
export async function findClient(db: Database, id: string): Promise<ClientWithSecret | undefined> {
  if (!CLIENT_ID.test(id)) return undefined;
  const row = await db('clients')
    .where('clients.id', id)
    .first<(ClientRow & { secrets: SecretJson[] | string | null }) | undefined>(
      'clients.*',
      db.raw(`(select json_agg(json_build_object('id', s.id, 'hash', s.secret_hash, 'notAfter', s.not_after) order by s.created_at, s.id)
               from client_secrets s where s.client_id = clients.id) as secrets`),
    );
  if (!row) return undefined;
  const secrets = typeof row.secrets === 'string' ? (JSON.parse(row.secrets) as SecretJson[]) : (row.secrets ?? []);
  return fromRow(row, secrets);
}

export async function listClients(db: Database): Promise<Client[]> {
  const rows = await db('clients').orderBy('id').select<ClientRow[]>('*');
  return rows.map((row) => publicClient(fromRow(row)));
}

/** Omitted or undefined: unchanged. A refresh lifetime set to null goes back to the service's default. */
export type ClientChanges = Partial<
  Pick<
    NewClient,
    'name' | 'grantTypes' | 'scopes' | 'defaultScopes' | 'audiences' | 'corsOrigins' | 'canIntrospect' | 'redirectUris' | 'postLogoutRedirectUris' | 'requireConsent' | 'refreshTokenTtlSec' | 'refreshIdleTtlSec' | 'refreshTokenInCookie'
  >
>;

/**
 * Updates a client's settings (not its id, type or secret); validated like a new client. A
 * client a clients file manages is refused unless its apply makes the change (client-manager.ts).
 */
export async function updateClient(db: Database, id: string, changes: ClientChanges, now: Date, by: ChangedBy = 'hand'): Promise<Client | undefined> {
  if (!CLIENT_ID.test(id)) return undefined;
  return db.transaction(async (trx) => {
    if (!(await lockClientRow(trx, id, by))) return undefined;
    return changeClient(trx, id, changes, now, by);
  });
}

async function changeClient(db: Database, id: string, changes: ClientChanges, now: Date, by: ChangedBy): Promise<Client | undefined> {
  const current = await findClient(db, id);
  if (!current) return undefined;
  const next = { ...publicClient(current), ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) } as Client;
  validate({ ...next, secret: undefined, id });
  const [row] = await db('clients')
    .where({ id })
    .modify((query) => (by === 'hand' ? query.whereNull('managed_by') : query))
    .update({
      name: next.name,
      grant_types: [...new Set(next.grantTypes)],
      scopes: [...new Set(next.scopes)],
      default_scopes: [...new Set(next.defaultScopes)],
      audiences: [...new Set(next.audiences)],
      cors_origins: [...new Set(next.corsOrigins)],
      can_introspect: next.canIntrospect,
      redirect_uris: [...new Set(next.redirectUris)],
      post_logout_redirect_uris: [...new Set(next.postLogoutRedirectUris)],
      require_consent: next.requireConsent,
      refresh_token_ttl_sec: next.refreshTokenTtlSec,
      refresh_idle_ttl_sec: next.refreshIdleTtlSec,
      refresh_token_in_cookie: next.refreshTokenInCookie,
      updated_at: now,
    })
    .returning<ClientRow[]>('*');
  return row ? publicClient(fromRow(row)) : undefined;
}

/**
 * Deletes a client; false when there is none. A client a clients file manages is refused unless
 * its apply deletes it. `beforeDelete` runs under the row's lock once the deletion is allowed
 * (the admin API ends the client's tokens there, never for a refused deletion).
 */
export async function deleteClient(db: Database, id: string, { by = 'hand', beforeDelete }: { readonly by?: ChangedBy; readonly beforeDelete?: () => Promise<void> } = {}): Promise<boolean> {
  if (!CLIENT_ID.test(id)) return false;
  return db.transaction(async (trx) => {
    if (!(await lockClientRow(trx, id, by))) return false;
    await beforeDelete?.();
    const query = trx('clients').where({ id });
    return (await (by === 'hand' ? query.whereNull('managed_by') : query).delete()) > 0;
  });
}
