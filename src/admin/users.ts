import type { Deps } from '../deps';
import type { PasswordWork } from '../identity/passwords';
import { changeUser, registerUser, removeUser, setUserDisabled, setUserPassword, type LifecycleDeps } from '../identity/user-lifecycle';
import { effectiveScopes, findUserById, listUsers, publicUser, type User, type UserChanges } from '../identity/users';
import { listSessions, revokeAllSessions, revokeSession, type Session } from '../oauth/sessions';
import { IdentityError } from '../identity/errors';
import { isUserId } from '../identity/ids';
import { listRoles } from '../identity/roles';
import { hasScope } from '../identity/scopes';
import { audit, type Actor } from './audit';

export type AdminDeps = LifecycleDeps & Pick<Deps, 'log' | 'events'>;

export async function findUser(deps: Pick<Deps, 'db'>, id: string): Promise<User | undefined> {
  const user = await findUserById(deps.db, id);
  return user ? publicUser(user) : undefined;
}

export function searchUsers(deps: Pick<Deps, 'db'>, query: { prefix?: string | undefined; limit: number; offset: number }): Promise<User[]> {
  return listUsers(deps.db, { ...(query.prefix ? { prefix: query.prefix } : {}), limit: query.limit, offset: query.offset });
}

/**
 * An admin may grant only what they hold: every scope a user would gain through `roles` (with
 * inheritance) or `scopes` must be granted by the actor's token. `admin` and `*` hold everything.
 */
async function checkGrantable(deps: Pick<Deps, 'db'>, actor: Actor, roles: readonly string[] | undefined, scopes: readonly string[] | undefined): Promise<void> {
  const wanted = new Set(scopes ?? []);
  if (roles && roles.length > 0) {
    for (const role of await listRoles(deps.db)) if (roles.includes(role.name)) for (const scope of role.effectiveScopes) wanted.add(scope);
  }
  const refused = [...wanted].filter((scope) => !hasScope(actor.scopes, scope));
  if (refused.length > 0) throw new IdentityError('forbidden_grant', `cannot grant scopes you do not hold: ${refused.join(' ')}`);
}

/**
 * The rule for every change to an existing user (issue 11): an admin may act only on a user who
 * holds nothing the admin's own token does not — else `users:write` could reset a superuser's
 * password and sign in as them, or strip their roles. An actor who may not read users gets the
 * same answer as for a user that does not exist, so the refusal tells them nothing new.
 */
async function checkTarget(deps: Pick<Deps, 'db'>, actor: Actor, id: string): Promise<void> {
  if (!isUserId(id)) return; // no such user: the action itself answers 404
  const held = await effectiveScopes(deps.db, id);
  const beyond = held.filter((scope) => !hasScope(actor.scopes, scope));
  if (beyond.length === 0) return;
  if (!hasScope(actor.scopes, 'users:read')) throw new IdentityError('unknown_user', 'no such user');
  throw new IdentityError('forbidden_target', 'this user holds scopes your token does not; only an admin holding them may change this user');
}

export async function createUserAs(deps: AdminDeps, actor: Actor, input: Parameters<typeof registerUser>[1], work: PasswordWork = {}): Promise<User> {
  await checkGrantable(deps, actor, input.roles, input.scopes);
  const user = await registerUser(deps, input, work);
  audit(deps.events, 'user_created', actor, user.id, { username: user.username, email: user.email, fullName: user.fullName, roles: user.roles, scopes: user.scopes });
  return user;
}

export async function updateUserAs(deps: AdminDeps, actor: Actor, id: string, changes: UserChanges): Promise<User> {
  await checkTarget(deps, actor, id);
  await checkGrantable(deps, actor, changes.roles, changes.scopes);
  const { before, after } = await changeUser(deps, id, changes);
  const changed = Object.fromEntries(Object.keys(changes).map((field) => [field, { from: before[field as keyof UserChanges], to: after[field as keyof UserChanges] }]));
  audit(deps.events, 'user_updated', actor, id, changed);
  return after;
}

export async function setDisabledAs(deps: AdminDeps, actor: Actor, id: string, disabled: boolean): Promise<User> {
  await checkTarget(deps, actor, id);
  const user = await setUserDisabled(deps, { id }, disabled);
  audit(deps.events, disabled ? 'user_disabled' : 'user_enabled', actor, id);
  return user;
}

export async function setPasswordAs(deps: AdminDeps, actor: Actor, id: string, password: string, work: PasswordWork = {}): Promise<void> {
  await checkTarget(deps, actor, id);
  await setUserPassword(deps, { id }, password, work);
  audit(deps.events, 'user_password_set', actor, id, { passwordChanged: true });
}

export async function deleteUserAs(deps: AdminDeps, actor: Actor, id: string): Promise<void> {
  await checkTarget(deps, actor, id);
  await removeUser(deps, id);
  audit(deps.events, 'user_deleted', actor, id);
}

export function sessionsOf(deps: AdminDeps, id: string): Promise<Session[]> {
  return listSessions(deps, id);
}

export async function revokeSessionAs(deps: AdminDeps, actor: Actor, id: string, sessionId: string): Promise<boolean> {
  await checkTarget(deps, actor, id);
  const revoked = await revokeSession(deps, id, sessionId);
  if (revoked) audit(deps.events, 'session_revoked', actor, id, { sessionId });
  return revoked;
}

export async function revokeAllSessionsAs(deps: AdminDeps, actor: Actor, id: string): Promise<number> {
  await checkTarget(deps, actor, id);
  const revoked = await revokeAllSessions(deps, id);
  audit(deps.events, 'sessions_revoked', actor, id, { revoked });
  return revoked;
}
