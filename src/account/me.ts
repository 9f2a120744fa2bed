import type { Deps } from '../deps';
import type { PasswordWork } from '../identity/passwords';
import { changeOwnPassword, changeUser, type LifecycleDeps } from '../identity/user-lifecycle';
import { findUserById, publicUser, type User } from '../identity/users';
import type { UserChanges } from '../identity/users';

export type AccountDeps = LifecycleDeps & Pick<Deps, 'log'>;

/** The signed-in user, fresh from the database; undefined when they may no longer sign in. */
export async function currentUser(deps: Pick<Deps, 'db'>, userId: string): Promise<User | undefined> {
  const user = await findUserById(deps.db, userId);
  return user && !user.disabled ? publicUser(user) : undefined;
}

export async function updateProfile(deps: AccountDeps, userId: string, changes: Pick<UserChanges, 'email' | 'fullName'>): Promise<User> {
  const { after } = await changeUser(deps, userId, changes);
  deps.log.info({ event: 'account.updated', actor: userId, target: userId, changed: Object.keys(changes) }, 'profile updated');
  return after;
}

export async function changePassword(deps: AccountDeps, userId: string, current: string, next: string, keepSession: string | undefined, work: PasswordWork = {}): Promise<void> {
  await changeOwnPassword(deps, userId, current, next, keepSession, work);
  deps.log.info({ event: 'account.password_changed', actor: userId, target: userId, keptSession: keepSession !== undefined }, 'password changed by its user');
}
