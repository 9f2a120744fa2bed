import type { Database } from '../db/database';
import { isUserId, looksLikeUserId } from './ids';
import { IdentityError } from './errors';
import { isValidScope } from './scopes';
import { normaliseUsername, usernameKey } from './usernames';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  readonly fullName: string | null;
  readonly disabled: boolean;
  readonly passwordChangedAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly roles: readonly string[];
  /** Scopes granted to the user directly (roles add more: see effectiveScopes). */
  readonly scopes: readonly string[];
}

/** A user with the password hash: only for the credential check, never for output. */
export interface UserWithCredentials extends User {
  readonly passwordHash: string;
}

interface UserRow {
  id: string;
  username: string;
  email: string | null;
  full_name: string | null;
  password_hash: string;
  disabled: boolean;
  password_changed_at: Date | string;
  created_at: Date | string;
  updated_at: Date | string;
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

/** A user's row without the roles and scopes, which live in other tables. */
export type UserRecord = Omit<UserWithCredentials, 'roles' | 'scopes'>;

function fromRow(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    disabled: row.disabled,
    passwordChangedAt: asDate(row.password_changed_at),
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    passwordHash: row.password_hash,
  };
}

/** Adds the roles and direct scopes: two queries, whatever the number of users. */
async function attachLinks(db: Database, records: UserRecord[]): Promise<UserWithCredentials[]> {
  if (records.length === 0) return [];
  const ids = records.map((record) => record.id);
  const [roles, scopes] = await Promise.all([
    db('user_roles').whereIn('user_id', ids).orderBy('role').select<Array<{ user_id: string; role: string }>>('user_id', 'role'),
    db('user_scopes').whereIn('user_id', ids).orderBy('scope').select<Array<{ user_id: string; scope: string }>>('user_id', 'scope'),
  ]);
  return records.map((record) => ({
    ...record,
    roles: roles.filter((link) => link.user_id === record.id).map((link) => link.role),
    scopes: scopes.filter((link) => link.user_id === record.id).map((link) => link.scope),
  }));
}

async function attach(db: Database, rows: UserRow[]): Promise<UserWithCredentials[]> {
  return attachLinks(db, rows.map(fromRow));
}

/** Drops the password hash. */
export function publicUser({ passwordHash: _hash, ...user }: UserWithCredentials): User {
  return user;
}

export interface NewUser {
  readonly username: string;
  readonly passwordHash: string;
  readonly email?: string | undefined;
  readonly fullName?: string | undefined;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
}

async function checkRoles(db: Database, roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  const known = await db('roles').whereIn('name', [...roles]).pluck<string[]>('name');
  const unknown = roles.filter((role) => !known.includes(role));
  if (unknown.length > 0) throw new IdentityError('unknown_role', `unknown role: ${unknown.join(', ')}`);
}

function checkScopes(scopes: readonly string[]): void {
  const bad = scopes.filter((scope) => !isValidScope(scope));
  if (bad.length > 0) throw new IdentityError('invalid_scope', `invalid scope: ${bad.join(', ')}`);
}

export async function createUser(db: Database, input: NewUser, now: Date): Promise<User> {
  const username = normaliseUsername(input.username);
  // A username shaped like a user id would be a decoy for an operator pasting a `sub` from a log.
  if (looksLikeUserId(username)) throw new IdentityError('invalid_username', 'a username must not look like a user id (a UUID)');
  const roles = [...new Set(input.roles ?? [])];
  const scopes = [...new Set(input.scopes ?? [])];
  checkScopes(scopes);
  return db.transaction(async (trx) => {
    await checkRoles(trx, roles);
    const key = usernameKey(username);
    const [row] = await trx('users')
      .insert({
        username,
        username_key: key,
        email: input.email ?? null,
        full_name: input.fullName ?? null,
        password_hash: input.passwordHash,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .onConflict('username_key')
      .ignore()
      .returning<UserRow[]>('*');
    if (!row) throw new IdentityError('duplicate_username', `username already taken: ${username}`);
    if (roles.length > 0) await trx('user_roles').insert(roles.map((role) => ({ user_id: row.id, role })));
    if (scopes.length > 0) await trx('user_scopes').insert(scopes.map((scope) => ({ user_id: row.id, scope })));
    const [user] = await attach(trx, [row]);
    return publicUser(user!);
  });
}

export async function findUserByUsername(db: Database, username: string): Promise<UserWithCredentials | undefined> {
  const rows = await db('users').where({ username_key: usernameKey(username) }).select<UserRow[]>('*');
  return (await attach(db, rows))[0];
}

/**
 * For a login attempt (an already computed key, no validation errors): the user's row alone, one
 * query that answers a row or nothing. Roles and scopes are not read here: reading them only when
 * the username exists made a wrong password for a known user slower to answer than an unknown
 * username: a list of valid usernames by timing, the first step of the guessing RFC 6749 §4.3.2
 * says this endpoint must resist. withRolesAndScopes reads them once the password proved right.
 */
export async function findLoginByKey(db: Database, key: string): Promise<UserRecord | undefined> {
  const [row] = await db('users').where({ username_key: key }).select<UserRow[]>('*');
  return row ? fromRow(row) : undefined;
}

/** The rest of a user found by findLoginByKey: their roles and direct scopes. */
export async function withRolesAndScopes(db: Database, record: UserRecord): Promise<UserWithCredentials> {
  const [user] = await attachLinks(db, [record]);
  return user!;
}

export async function findUserById(db: Database, id: string): Promise<UserWithCredentials | undefined> {
  if (!isUserId(id)) return undefined;
  const rows = await db('users').where({ id }).select<UserRow[]>('*');
  return (await attach(db, rows))[0];
}

export async function listUsers(db: Database, { prefix, limit = 100, offset = 0 }: { prefix?: string; limit?: number; offset?: number } = {}): Promise<User[]> {
  const query = db('users').orderBy('username_key').limit(limit).offset(offset);
  if (prefix) query.whereLike('username_key', `${prefix.normalize('NFKC').toLowerCase().replace(/[\\%_]/g, '\\$&')}%`);
  return (await attach(db, await query.select<UserRow[]>('*'))).map(publicUser);
}

export async function updateUserRow(db: Database, id: string, changes: Partial<Pick<UserRow, 'disabled' | 'password_hash' | 'email' | 'full_name'>> & { password_changed_at?: Date }, now: Date): Promise<boolean> {
  const count = await db('users').where({ id }).update({ ...changes, updated_at: now });
  return count > 0;
}

/**
 * The scopes a user holds: those of each of their roles and every role below it in the
 * hierarchy, plus the user's direct scopes. The depth bound stops a misconfigured cycle.
 */
export async function effectiveScopes(db: Database, userId: string): Promise<string[]> {
  const result = await db.raw<{ rows: Array<{ scope: string }> }>(
    `with recursive chain(name, depth) as (
       select role, 0 from user_roles where user_id = ?
       union
       select r.parent, c.depth + 1 from roles r join chain c on r.name = c.name
        where r.parent is not null and c.depth < 16
     )
     select scope from role_scopes where role in (select name from chain)
     union
     select scope from user_scopes where user_id = ?
     order by scope`,
    [userId, userId],
  );
  return result.rows.map((row) => row.scope);
}

export interface UserChanges {
  readonly email?: string | null;
  readonly fullName?: string | null;
  /** Replaces the user's roles. */
  readonly roles?: readonly string[];
  /** Replaces the user's direct scopes. */
  readonly scopes?: readonly string[];
}

/** Applies `changes` in one transaction; returns the user before and after, or undefined. */
/**
 * `beforeCommit` runs inside the transaction once the change is written: what must happen with
 * it elsewhere (the token store) happens there, and if it fails the change is rolled back.
 */
export async function updateUser(
  db: Database,
  id: string,
  changes: UserChanges,
  now: Date,
  beforeCommit?: (trx: Database, change: { before: User; after: User }) => Promise<void>,
): Promise<{ before: User; after: User } | undefined> {
  if (!isUserId(id)) return undefined;
  if (changes.scopes) checkScopes(changes.scopes);
  return db.transaction(async (trx) => {
    const [row] = await trx('users').where({ id }).forUpdate().select<UserRow[]>('*');
    if (!row) return undefined;
    const [before] = await attach(trx, [row]);
    const columns: Partial<UserRow> = {};
    if (changes.email !== undefined) columns.email = changes.email;
    if (changes.fullName !== undefined) columns.full_name = changes.fullName;
    await trx('users').where({ id }).update({ ...columns, updated_at: now });
    if (changes.roles) {
      const roles = [...new Set(changes.roles)];
      await checkRoles(trx, roles);
      await trx('user_roles').where({ user_id: id }).delete();
      if (roles.length > 0) await trx('user_roles').insert(roles.map((role) => ({ user_id: id, role })));
    }
    if (changes.scopes) {
      const scopes = [...new Set(changes.scopes)];
      await trx('user_scopes').where({ user_id: id }).delete();
      if (scopes.length > 0) await trx('user_scopes').insert(scopes.map((scope) => ({ user_id: id, scope })));
    }
    const [after] = await attach(trx, await trx('users').where({ id }).select<UserRow[]>('*'));
    const change = { before: publicUser(before!), after: publicUser(after!) };
    if (beforeCommit) await beforeCommit(trx, change);
    return change;
  });
}

/** Deletes the user and their role and scope links; false when there was no such user. */
export async function deleteUser(db: Database, id: string): Promise<boolean> {
  if (!isUserId(id)) return false;
  return (await db('users').where({ id }).delete()) > 0;
}
