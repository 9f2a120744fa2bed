import type { Database } from '../db/database';
import type { Passwords } from './passwords';
import { tryUsernameKey } from './usernames';
import { findUserByKey, publicUser, updateUserRow, type User } from './users';

/**
 * The resource-owner credential check. Every path costs exactly one argon2 verify: an unknown or
 * malformed username is checked against a dummy hash, so neither the answer nor its timing tells
 * a caller which usernames exist. A right password on a hash made with older parameters is
 * re-hashed with the current ones (password_changed_at stays: the password did not change).
 * Returns the user, disabled or not (the caller decides what disabled means), or undefined.
 */
export async function authenticate(
  deps: { readonly db: Database; readonly passwords: Passwords },
  username: string,
  password: string,
  now: Date,
): Promise<User | undefined> {
  const key = tryUsernameKey(username);
  const user = key === undefined ? undefined : await findUserByKey(deps.db, key);
  if (!user) {
    await deps.passwords.checkUnknownUser(password);
    return undefined;
  }
  const result = await deps.passwords.check(user.passwordHash, password);
  if (!result.ok) return undefined;
  if (result.rehashed) await updateUserRow(deps.db, user.id, { password_hash: result.rehashed }, now);
  return publicUser(user);
}
