import type { Database } from '../db/database';
import { isUserId } from './ids';

/** What a token issued to a user needs to know about them, read from the database. */
export interface TokenSubject {
  readonly id: string;
  readonly username: string;
  readonly disabled: boolean;
  readonly passwordChangedAt: Date;
  readonly roles: readonly string[];
  /** Effective scopes: the roles' (with inheritance) plus the user's direct ones. */
  readonly scopes: readonly string[];
}

interface SubjectRow {
  id: string;
  username: string;
  disabled: boolean;
  password_changed_at: Date | string;
  roles: string[] | null;
  scopes: string[] | null;
}

// One statement, one round trip: the refresh grant runs this when a family has no fresh snapshot
// of the user (see REFRESH_SUBJECT_MAX_AGE). The role chain
// is the same walk as effectiveScopes (depth-bounded against a misconfigured cycle).
const SUBJECT_SQL = `
with recursive chain(name, depth) as (
  select role, 0 from user_roles where user_id = ?
  union
  select r.parent, c.depth + 1 from roles r join chain c on r.name = c.name
   where r.parent is not null and c.depth < 16
)
select u.id, u.username, u.disabled, u.password_changed_at,
  (select array_agg(role order by role) from user_roles where user_id = u.id) as roles,
  (select array_agg(scope order by scope) from (
     select scope from role_scopes where role in (select name from chain)
     union
     select scope from user_scopes where user_id = u.id
  ) held) as scopes
from users u where u.id = ?`;

export type SignInRefusal = 'user_deleted' | 'user_disabled' | 'password_changed';

/**
 * Why a login the user proved at `authenticatedAt` (ms) may no longer stand: the user is gone,
 * disabled, or has a newer password. Undefined when it may.
 */
export function signInRefusal(user: TokenSubject | undefined, authenticatedAt: number): SignInRefusal | undefined {
  if (!user) return 'user_deleted';
  if (user.disabled) return 'user_disabled';
  return user.passwordChangedAt.getTime() > authenticatedAt ? 'password_changed' : undefined;
}

export async function findTokenSubject(db: Database, userId: string): Promise<TokenSubject | undefined> {
  if (!isUserId(userId)) return undefined;
  const result = await db.raw<{ rows: SubjectRow[] }>(SUBJECT_SQL, [userId, userId]);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    disabled: row.disabled,
    passwordChangedAt: row.password_changed_at instanceof Date ? row.password_changed_at : new Date(row.password_changed_at),
    roles: row.roles ?? [],
    scopes: row.scopes ?? [],
  };
}
