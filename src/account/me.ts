import type { Deps } from '../deps';
import type { Origin } from '../events/catalogue';
import { throttledCheck } from '../identity/credential-throttle';
import { IdentityError } from '../identity/errors';
import type { PasswordWork } from '../identity/passwords';
import { changeOwnPassword, changeUser, type LifecycleDeps } from '../identity/user-lifecycle';
import { findUserById, publicUser, type User } from '../identity/users';
import type { UserChanges } from '../identity/users';

export type AccountDeps = LifecycleDeps & Pick<Deps, 'log' | 'events' | 'throttle'> & { readonly config: Pick<Deps['config'], 'throttle'> };

/** The signed-in user, fresh from the database; undefined when they may no longer sign in. */
export async function currentUser(deps: Pick<Deps, 'db'>, userId: string): Promise<User | undefined> {
  const user = await findUserById(deps.db, userId);
  return user && !user.disabled ? publicUser(user) : undefined;
}

export async function updateProfile(deps: AccountDeps, userId: string, changes: Pick<UserChanges, 'email' | 'fullName'>, origin: Origin = {}): Promise<User> {
  const { after } = await changeUser(deps, userId, changes);
  deps.events.emit('account.updated', { actor: userId, target: userId, changed: Object.keys(changes), ...origin });
  return after;
}

/**
 * The user's own change, proved by the current password: that check is throttled like a login
 * (a stolen access token must not become a password-guessing oracle), per username and address.
 */
export async function changePassword(deps: AccountDeps, user: { readonly id: string; readonly username: string }, current: string, next: string, keepSession: string | undefined, work: PasswordWork = {}, origin: Origin = {}): Promise<void> {
  const userId = user.id;
  const wrong = await throttledCheck(deps, { name: user.username, address: work.owner, requestId: origin.requestId }, async () => {
    try {
      await changeOwnPassword(deps, userId, current, next, keepSession, work);
      return { ok: true, value: undefined, known: true };
    } catch (error) {
      if (error instanceof IdentityError && error.code === 'wrong_password') return { ok: false, value: error, known: true };
      throw error; // not an answer about the password (a weak new one, overload): cancelled
    }
  });
  if (wrong) throw wrong;
  deps.events.emit('account.password_changed', { actor: userId, target: userId, keptSession: keepSession !== undefined, ip: work.owner, ...origin });
}
