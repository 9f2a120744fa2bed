import type { Clock } from '../clock';
import { nowSeconds } from '../clock';
import type { Config } from '../config/config';
import { LONGEST_ACCESS_TOKEN_TTL_SEC } from '../config/schema';
import type { Database } from '../db/database';
import { familyPolicy } from '../oauth/refresh-policy';
import type { BrowserSessionStore } from '../store/browser-sessions';
import { setUserSubject } from '../store/families';
import type { FamilyStore } from '../store/families';
import type { RevocationStore } from '../store/revocations';
import { IdentityError } from './errors';
import { checkPasswordPolicy, describePasswordProblem, type PasswordWork, type Passwords } from './passwords';
import { hasScope } from './scopes';
import { createUser, deleteUser, effectiveScopes, findUserById, findUserByUsername, publicUser, updateUser, updateUserRow, type NewUser, type User, type UserChanges, type UserWithCredentials } from './users';

export interface LifecycleDeps {
  readonly db: Database;
  readonly families: FamilyStore;
  readonly revocations: Pick<RevocationStore, 'revokeUserTokensBefore'>;
  readonly browserSessions: Pick<BrowserSessionStore, 'endUserBrowserSessions'>;
  readonly passwords: Passwords;
  readonly clock: Clock;
  readonly config: Pick<Config, 'accessTokenTtlSec' | 'passwordMinLength' | 'refresh'>;
}

/** A username (the CLI) or `{ id }` (the HTTP APIs). */
export type UserRef = string | { readonly id: string };

// Changes that end a user's access at once. The database is the record; the revocation epoch in
// the token store is what introspection reads (no database on that hot path), so both are
// written here, at the moment of the change. The epoch lives as long as any access token can.
/** What ending a user's access needs: their families, browser sessions, revocation epoch, the clock. */
export type AccessEndDeps = Pick<LifecycleDeps, 'families' | 'revocations' | 'browserSessions' | 'clock'> & { readonly config: Pick<Config, 'accessTokenTtlSec' | 'refresh'> };

async function revokeAccessTokens(deps: AccessEndDeps, userId: string): Promise<void> {
  // Kept for the longest access-token lifetime allowed, not this process's ACCESS_TOKEN_TTL: a
  // CLI run with a shorter one than the service's let the epoch lapse while the user's tokens
  // still lived (outside round: a disabled user's token active again after 95 s).
  await deps.revocations.revokeUserTokensBefore(userId, deps.clock.now(), LONGEST_ACCESS_TOKEN_TTL_SEC, nowSeconds(deps.clock));
}

/**
 * Access tokens, every browser session and every login (refresh-token family) but
 * `keepFamily`, if given, end now; returns how many logins were live. Log out everywhere is this
 * with nothing kept. Browser sessions end even when a login is kept: a browser left signed in
 * would start new logins (the code flow) without the new password. They end before the
 * families, so that no login starts from one after its families were revoked.
 */
export async function endAccessNow(deps: AccessEndDeps, userId: string, keepFamily?: string): Promise<number> {
  await revokeAccessTokens(deps, userId);
  const now = deps.clock.now();
  await deps.browserSessions.endUserBrowserSessions(userId, now);
  const ended = await deps.families.revokeUserFamilies(userId, familyPolicy(deps.config), now, keepFamily);
  if (keepFamily !== undefined) await deps.families.reauthenticateFamily(keepFamily, now);
  return ended;
}

/**
 * A change in the database that must end the user's access (disable, new password, delete):
 * access ends before it, so a token store that cannot take the revocation refuses the change
 * instead of leaving it half made (the user disabled, their tokens alive); and again after it,
 * so a login that read the user between the two does not outlive the change.
 */
async function withAccessEnded<T>(deps: AccessEndDeps, userId: string, change: () => Promise<T>, keepFamily?: string): Promise<T> {
  await endAccessNow(deps, userId, keepFamily);
  const result = await change();
  await endAccessNow(deps, userId, keepFamily);
  return result;
}

function checkPolicy(deps: Pick<LifecycleDeps, 'config'>, password: string): void {
  const problem = checkPasswordPolicy(password, deps.config.passwordMinLength);
  if (problem) throw new IdentityError('weak_password', describePasswordProblem(problem, deps.config.passwordMinLength));
}

async function requireUser(deps: LifecycleDeps, ref: UserRef): Promise<UserWithCredentials> {
  const user = typeof ref === 'string' ? await findUserByUsername(deps.db, ref) : await findUserById(deps.db, ref.id);
  if (!user) throw new IdentityError('unknown_user', typeof ref === 'string' ? `no such user: ${ref}` : 'no such user');
  return user;
}

/** `work` (here and below): an HTTP caller's abort signal and address, for the hash queue. */
export async function registerUser(deps: Omit<LifecycleDeps, 'families' | 'revocations' | 'browserSessions'>, input: Omit<NewUser, 'passwordHash'> & { password: string }, work: PasswordWork = {}): Promise<User> {
  checkPolicy(deps, input.password);
  const { password, ...rest } = input;
  return createUser(deps.db, { ...rest, passwordHash: await deps.passwords.hash(password, work) }, new Date(deps.clock.now()));
}

export async function setUserDisabled(deps: LifecycleDeps, ref: UserRef, disabled: boolean): Promise<User> {
  const user = await requireUser(deps, ref);
  const write = () => updateUserRow(deps.db, user.id, { disabled }, new Date(deps.clock.now()));
  await (disabled ? withAccessEnded(deps, user.id, write) : write());
  return { ...publicUser(user), disabled };
}

/**
 * Sets a new password: every access token issued before now and every login end, except the
 * login `keepFamily` (the session the user changed it from, when they ask to stay signed in).
 */
export async function setUserPassword(deps: LifecycleDeps, ref: UserRef, password: string, { keepFamily, ...work }: { keepFamily?: string } & PasswordWork = {}): Promise<User> {
  checkPolicy(deps, password);
  const user = await requireUser(deps, ref);
  const now = new Date(deps.clock.now());
  const passwordHash = await deps.passwords.hash(password, work);
  await withAccessEnded(deps, user.id, () => updateUserRow(deps.db, user.id, { password_hash: passwordHash, password_changed_at: now }, now), keepFamily);
  return { ...publicUser(user), passwordChangedAt: now };
}

/** The user's own change: the current password must be right (one argon2 check). */
export async function changeOwnPassword(deps: LifecycleDeps, userId: string, current: string, next: string, keepFamily?: string, work: PasswordWork = {}): Promise<User> {
  checkPolicy(deps, next);
  const user = await requireUser(deps, { id: userId });
  if (!(await deps.passwords.check(user.passwordHash, current, work)).ok) throw new IdentityError('wrong_password', 'the current password is not right');
  return setUserPassword(deps, { id: userId }, next, keepFamily === undefined ? work : { keepFamily, ...work });
}

/**
 * Profile, roles and scopes. When the user loses any scope (a role or a direct scope removed),
 * their access tokens end at once; their logins stay, and the next refresh carries what is left
 * (or what was added). As with the changes that end access (withAccessEnded), the token store is
 * written before the change commits, so that if it cannot be nothing changes (a half-made change
 * would leave tokens carrying a removed scope, and a retry would no longer see the scope as
 * lost), and again after, so that a login that read the user in between does not keep the old.
 */
export async function changeUser(deps: LifecycleDeps, id: string, changes: UserChanges): Promise<{ before: User; after: User }> {
  const linksChange = changes.roles !== undefined || changes.scopes !== undefined;
  const heldBefore = linksChange ? await effectiveScopes(deps.db, id) : [];
  const propagate = async (db: Database, roles: readonly string[]): Promise<void> => {
    const readAt = deps.clock.now();
    const heldAfter = await effectiveScopes(db, id);
    // Live logins carry the user's roles and scopes for their next refresh: replace them first,
    // so that a refresh racing this change either carries the new ones or issues a token that
    // the epoch below ends.
    await setUserSubject(deps.families, id, { roles, scopes: heldAfter, at: readAt }, readAt);
    if (heldBefore.some((scope) => !hasScope(heldAfter, scope))) await revokeAccessTokens(deps, id);
  };
  const result = await updateUser(deps.db, id, changes, new Date(deps.clock.now()), linksChange ? (trx, { after }) => propagate(trx, after.roles) : undefined);
  if (!result) throw new IdentityError('unknown_user', 'no such user');
  if (linksChange) await propagate(deps.db, result.after.roles);
  return result;
}

/** Deletes the user; their tokens and logins end with it, so nothing of theirs outlives them. */
export async function removeUser(deps: LifecycleDeps, id: string): Promise<void> {
  const user = await requireUser(deps, { id });
  await withAccessEnded(deps, user.id, () => deleteUser(deps.db, user.id));
}
