import type { Database } from '../db/database';
import { looksLikeUserId } from './ids';
import { isValidScope } from './scopes';

/** One stored value that breaks a rule added after it was written. */
export interface StoredProblem {
  readonly where: 'user_scopes' | 'role_scopes' | 'clients.scopes' | 'clients.default_scopes' | 'clients.id' | 'users.username';
  /** The user id, role name or client id it belongs to. */
  readonly owner: string;
  readonly value: string;
  readonly problem: string;
}

const BAD_SCOPE = 'outside the scope grammar: grants only itself, never as a wildcard; replace it';

/**
 * Reports what the current rules would refuse but older data may hold: scopes outside the
 * grammar (identity/scopes.ts) and client ids shaped like user ids. Nothing is changed or
 * dropped: an operator decides. Run after migrations by `portcullis migrate` and at start-up.
 */
export async function findStoredProblems(db: Database): Promise<StoredProblem[]> {
  const [userScopes, roleScopes, clients, users] = await Promise.all([
    badUserScopes(db),
    db('role_scopes').select<Array<{ role: string; scope: string }>>('role', 'scope'),
    db('clients').select<Array<{ id: string; scopes: string[]; default_scopes: string[] }>>('id', 'scopes', 'default_scopes'),
    db('users').whereRaw("username ~* '^[0-9a-f-]{32,36}$'").select<Array<{ id: string; username: string }>>('id', 'username'),
  ]);
  const problems: StoredProblem[] = [];
  for (const row of userScopes) problems.push({ where: 'user_scopes', owner: row.user_id, value: row.scope, problem: BAD_SCOPE });
  for (const row of roleScopes) if (!isValidScope(row.scope)) problems.push({ where: 'role_scopes', owner: row.role, value: row.scope, problem: BAD_SCOPE });
  for (const client of clients) {
    for (const scope of client.scopes) if (!isValidScope(scope)) problems.push({ where: 'clients.scopes', owner: client.id, value: scope, problem: BAD_SCOPE });
    for (const scope of client.default_scopes) if (!isValidScope(scope)) problems.push({ where: 'clients.default_scopes', owner: client.id, value: scope, problem: BAD_SCOPE });
    if (looksLikeUserId(client.id)) problems.push({ where: 'clients.id', owner: client.id, value: client.id, problem: 'looks like a user id: its own tokens could be taken for a user\'s; delete it and create it under another id' });
  }
  for (const user of users) if (looksLikeUserId(user.username)) problems.push({ where: 'users.username', owner: user.id, value: user.username, problem: 'looks like a user id: a decoy for anyone looking a user up by id; rename it' });
  return problems;
}

/**
 * Direct scopes of users outside the grammar, with their owners. Every start runs this, so it
 * reads the scope vocabulary (distinct values: as many as there are scope names, not users) and
 * only the rows of bad ones.
 */
async function badUserScopes(db: Database): Promise<Array<{ user_id: string; scope: string }>> {
  const names = await db('user_scopes').distinct('scope').pluck<string[]>('scope');
  const bad = names.filter((scope) => !isValidScope(scope));
  if (bad.length === 0) return [];
  return db('user_scopes').whereIn('scope', bad).orderBy(['scope', 'user_id']).select<Array<{ user_id: string; scope: string }>>('user_id', 'scope');
}
