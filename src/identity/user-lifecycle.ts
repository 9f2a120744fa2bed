import type { Clock } from '../clock';
import { nowSeconds } from '../clock';
import type { Config } from '../config/config';
import type { Database } from '../db/database';
import { familyPolicy } from '../oauth/refresh-policy';
import type { TokenStore } from '../store/token-store';
import { IdentityError } from './errors';
import { checkPasswordPolicy, describePasswordProblem, type Passwords } from './passwords';
import { createUser, findUserByUsername, publicUser, updateUserRow, type NewUser, type User } from './users';

export interface LifecycleDeps {
  readonly db: Database;
  readonly store: TokenStore;
  readonly passwords: Passwords;
  readonly clock: Clock;
  readonly config: Pick<Config, 'accessTokenTtlSec' | 'passwordMinLength' | 'refresh'>;
}

// Changes that end a user's access at once. The database is the record; the revocation epoch in
// the token store is what introspection reads (no database on that hot path), so both are
// written here, at the moment of the change. The epoch lives as long as an access token can.
// Every refresh family (login) of the user ends too, so no session outlives the change.
async function endAccessNow(deps: LifecycleDeps, userId: string): Promise<void> {
  await deps.store.revokeUserTokensBefore(userId, deps.clock.now(), deps.config.accessTokenTtlSec, nowSeconds(deps.clock));
  await deps.store.revokeUserFamilies(userId, familyPolicy(deps.config), deps.clock.now());
}

function checkPolicy(deps: LifecycleDeps, password: string): void {
  const problem = checkPasswordPolicy(password, deps.config.passwordMinLength);
  if (problem) throw new IdentityError('weak_password', describePasswordProblem(problem, deps.config.passwordMinLength));
}

async function requireUser(deps: LifecycleDeps, username: string): Promise<User & { passwordHash: string }> {
  const user = await findUserByUsername(deps.db, username);
  if (!user) throw new IdentityError('unknown_user', `no such user: ${username}`);
  return user;
}

export async function registerUser(deps: LifecycleDeps, input: Omit<NewUser, 'passwordHash'> & { password: string }): Promise<User> {
  checkPolicy(deps, input.password);
  const { password, ...rest } = input;
  return createUser(deps.db, { ...rest, passwordHash: await deps.passwords.hash(password) }, new Date(deps.clock.now()));
}

export async function setUserDisabled(deps: LifecycleDeps, username: string, disabled: boolean): Promise<User> {
  const user = await requireUser(deps, username);
  await updateUserRow(deps.db, user.id, { disabled }, new Date(deps.clock.now()));
  if (disabled) await endAccessNow(deps, user.id);
  return { ...publicUser(user), disabled };
}

/** Sets a new password; every token issued before now stops working. */
export async function setUserPassword(deps: LifecycleDeps, username: string, password: string): Promise<User> {
  checkPolicy(deps, password);
  const user = await requireUser(deps, username);
  const now = new Date(deps.clock.now());
  await updateUserRow(deps.db, user.id, { password_hash: await deps.passwords.hash(password), password_changed_at: now }, now);
  await endAccessNow(deps, user.id);
  return { ...publicUser(user), passwordChangedAt: now };
}
