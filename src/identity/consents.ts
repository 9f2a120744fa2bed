import type { Database } from '../db/database';
import { isValidClientId } from './clients';
import { IdentityError } from './errors';
import { isUserId } from './ids';
import { isValidScope } from './scopes';

/** What a user allowed a client (one that requires consent) to obtain on their behalf. */
export interface Consent {
  readonly clientId: string;
  readonly clientName: string;
  /** Every scope granted so far, sorted. */
  readonly scopes: readonly string[];
  /** When the user last granted something to this client. */
  readonly grantedAt: Date;
}

interface ConsentRow {
  client_id: string;
  client_name: string;
  scopes: string[];
  granted_at: Date | string;
}

/** The scopes the user has granted the client, or undefined when they never did. */
export async function findConsent(db: Database, userId: string, clientId: string): Promise<readonly string[] | undefined> {
  if (!isUserId(userId) || !isValidClientId(clientId)) return undefined;
  const row = await db('consents').where({ user_id: userId, client_id: clientId }).first<{ scopes: string[] } | undefined>('scopes');
  return row?.scopes;
}

/**
 * Records that the user allowed the client these scopes, in addition to any granted before (one
 * statement: two consent pages answered at once both count). Scopes are kept sorted.
 */
export async function grantConsent(db: Database, userId: string, clientId: string, scopes: readonly string[], now: Date): Promise<void> {
  if (!isUserId(userId)) throw new IdentityError('unknown_user', 'no such user');
  if (!isValidClientId(clientId)) throw new IdentityError('unknown_client', `no such client: ${clientId}`);
  const bad = scopes.filter((scope) => !isValidScope(scope));
  if (bad.length > 0) throw new IdentityError('invalid_scope', `invalid scope: ${bad.join(', ')}`);
  try {
    await db('consents')
      .insert({ user_id: userId, client_id: clientId, scopes: [...new Set(scopes)].sort(), granted_at: now })
      .onConflict(['user_id', 'client_id'])
      .merge({
        scopes: db.raw('array(select distinct granted from unnest(consents.scopes || excluded.scopes) as granted order by granted)'),
        granted_at: db.raw('excluded.granted_at'),
      });
  } catch (error) {
    // The user or the client was deleted meanwhile (foreign_key_violation).
    if ((error as { code?: unknown }).code === '23503') {
      const client = /client_id/.test(String((error as { constraint?: unknown }).constraint));
      throw client ? new IdentityError('unknown_client', `no such client: ${clientId}`) : new IdentityError('unknown_user', 'no such user');
    }
    throw error;
  }
}

/** Forgets the user's consent to the client; false when there was none. */
export async function revokeConsent(db: Database, userId: string, clientId: string): Promise<boolean> {
  if (!isUserId(userId) || !isValidClientId(clientId)) return false;
  return (await db('consents').where({ user_id: userId, client_id: clientId }).delete()) > 0;
}

/** The user's consents with the clients' names, by client id. */
export async function listConsents(db: Database, userId: string): Promise<Consent[]> {
  if (!isUserId(userId)) return [];
  const rows = await db('consents')
    .join('clients', 'clients.id', 'consents.client_id')
    .where('consents.user_id', userId)
    .orderBy('consents.client_id')
    .select<ConsentRow[]>('consents.client_id', 'clients.name as client_name', 'consents.scopes', 'consents.granted_at');
  return rows.map((row) => ({ clientId: row.client_id, clientName: row.client_name, scopes: row.scopes, grantedAt: new Date(row.granted_at) }));
}
