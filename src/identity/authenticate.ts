import type { Database } from '../db/database';
import type { PasswordWork, Passwords } from './passwords';
import { tryUsernameKey } from './usernames';
import { findLoginByKey, publicUser, updateUserRow, withRolesAndScopes, type User } from './users';

/** A user whose password was right but who is disabled: every caller refuses them, so no more is read. */
export interface DisabledLogin {
  readonly id: string;
  readonly username: string;
  readonly disabled: true;
  /** Never read for a disabled user (see authenticate): a caller that forgets to refuse gets nothing. */
  readonly roles?: undefined;
  readonly scopes?: undefined;
}

export type Authenticated = (User & { readonly disabled: false }) | DisabledLogin;

/**
 * The resource-owner credential check. Until the password has proved right, every path does the
 * same work: one query that answers the user's row or nothing, then one argon2 verify (an
 * unknown username's against a dummy hash), so neither the answer nor its timing tells a caller
 * which usernames exist (RFC 6749 §4.3.2: the endpoint must resist guessing). A disabled user's
 * right password stops there too. Only a usable login reads its roles and scopes, and a right
 * password on a hash made with older parameters is re-hashed with the current ones
 * (password_changed_at stays: the password did not change). Returns undefined on any failure.
 * `work` drops the check if its client leaves while it waits in the hash queue, and charges its
 * waiting place to the client's address (QueueFullError, QueueShareExceededError).
 */
export async function authenticate(
  deps: { readonly db: Database; readonly passwords: Passwords },
  username: string,
  password: string,
  now: Date,
  work: PasswordWork = {},
): Promise<Authenticated | undefined> {
  return (await checkLogin(deps, username, password, now, work)).user;
}

/**
 * authenticate, also saying whether the username named a user, for the log only (an unknown
 * name may be a password typed into the username field, so it is never logged as typed). Never
 * put `userExists` in a response: that is the enumeration authenticate exists to prevent.
 */
export async function checkLogin(
  deps: { readonly db: Database; readonly passwords: Passwords },
  username: string,
  password: string,
  now: Date,
  work: PasswordWork = {},
): Promise<{ readonly user: Authenticated | undefined; readonly userExists: boolean }> {
  // A malformed username is no one's (its shape alone says so): no query, the same argon2 work.
  const key = tryUsernameKey(username);
  const login = key === undefined ? undefined : await findLoginByKey(deps.db, key);
  if (!login) {
    await deps.passwords.checkUnknownUser(password, work);
    return { user: undefined, userExists: false };
  }
  const result = await deps.passwords.check(login.passwordHash, password, work, { rehash: !login.disabled });
  if (!result.ok) return { user: undefined, userExists: true };
  if (login.disabled) return { user: { id: login.id, username: login.username, disabled: true }, userExists: true };
  if (result.rehashed) await updateUserRow(deps.db, login.id, { password_hash: result.rehashed }, now);
  return { user: { ...publicUser(await withRolesAndScopes(deps.db, login)), disabled: false }, userExists: true };
}
