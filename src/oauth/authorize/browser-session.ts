import type { Deps } from '../../deps';
import type { Origin } from '../../events/catalogue';
import { findTokenSubject, signInRefusal, type TokenSubject } from '../../identity/token-subject';
import type { BrowserSession } from '../../store/browser-sessions';
import type { Family } from '../../store/families';
import { browserSessionIdOf, newBrowserSessionCookie } from '../../tokens/browser-session-cookie';
import { hashRefreshSecret, parseRefreshToken } from '../../tokens/refresh-token';
import { familyPolicy } from '../refresh-policy';
import { revokeSessionsWhere } from '../sessions';

// Browser sessions (store/browser-sessions.ts): the hosted login page's sign-in, which lets the
// authorization endpoint answer without the form. Not the account API's "sessions", which are
// refresh-token families; a family records the browser session that started it.

export type BrowserSessionDeps = Pick<Deps, 'db' | 'browserSessions' | 'families' | 'clock' | 'config' | 'log' | 'events'>;

/** A browser session that may still sign its user in, with the user as the database has them now. */
export interface SignedIn {
  readonly session: BrowserSession;
  readonly user: TokenSubject;
}

/**
 * The session the cookie names, when it is live and its user may still sign in: not deleted,
 * not disabled, no newer password than the session's sign-in (those end the session in the
 * store too, at the time of the change; this catches a change made in the database directly).
 * Touching it slides its idle expiry.
 */
export async function resumeBrowserSession(deps: BrowserSessionDeps, cookie: string | undefined, origin: Origin): Promise<SignedIn | undefined> {
  const id = cookie === undefined ? undefined : browserSessionIdOf(cookie);
  if (id === undefined) return undefined;
  const now = deps.clock.now();
  const session = await deps.browserSessions.touchBrowserSession(id, deps.config.browser.sessionIdleTtlSec * 1000, now);
  if (!session) return undefined;
  const user = await findTokenSubject(deps.db, session.userId);
  const refusal = signInRefusal(user, session.authenticatedAt);
  if (!user || refusal) {
    await deps.browserSessions.endBrowserSession(id, now);
    deps.events.emit('browser_session.ended', { reason: refusal ?? 'user_deleted', userId: session.userId, ...origin });
    return undefined;
  }
  return { session, user };
}

/**
 * Starts a browser session for a user who has just proved their password; returns the cookie
 * value. `previousCookie`, when it names this user's session (a second sign-in, `prompt=login`),
 * is kept: the session is written again with the same id and a new sign-in time, so the
 * families it started stay tied to it and a later logout still ends them (a new id would have
 * orphaned them). Anyone else's session on this browser is ended the way a logout ends it.
 * Reusing the id is no fixation: only this user's own cookie can name it.
 */
export async function startBrowserSession(deps: BrowserSessionDeps, userId: string, previousCookie: string | undefined, origin: Origin): Promise<{ cookie: string; signedIn: SignedIn }> {
  const now = deps.clock.now();
  const previousId = previousCookie === undefined ? undefined : browserSessionIdOf(previousCookie);
  const previous = previousId === undefined ? undefined : await deps.browserSessions.endBrowserSession(previousId, now);
  if (previous && previous.userId !== userId) await revokeStartedBy(deps, previous);
  const { cookie, id } = previous?.userId === userId ? { cookie: previousCookie!, id: previous.id } : newBrowserSessionCookie(userId);
  const { sessionTtlSec, sessionIdleTtlSec } = deps.config.browser;
  const absoluteExpiresAt = now + sessionTtlSec * 1000;
  await deps.browserSessions.createBrowserSession({ id, userId, absoluteExpiresAt, idleTtlMs: sessionIdleTtlSec * 1000 }, now);
  const user = await findTokenSubject(deps.db, userId);
  if (!user) throw new Error('a user who just signed in could not be read back');
  deps.events.emit('browser_session.started', { userId, renewed: previous?.userId === userId, ...origin });
  const session: BrowserSession = { id, userId, createdAt: now, authenticatedAt: now, lastSeenAt: now, absoluteExpiresAt, idleExpiresAt: Math.min(now + sessionIdleTtlSec * 1000, absoluteExpiresAt) };
  return { cookie, signedIn: { session, user } };
}

/**
 * Ends the session the cookie names and revokes the refresh-token families it started (and so
 * their access tokens, which introspection checks against their family). Returns the session
 * when there was a live one.
 */
export async function endBrowserSession(deps: BrowserSessionDeps, cookie: string | undefined, origin: Origin): Promise<BrowserSession | undefined> {
  const id = cookie === undefined ? undefined : browserSessionIdOf(cookie);
  if (id === undefined) return undefined;
  const session = await deps.browserSessions.endBrowserSession(id, deps.clock.now());
  if (!session) return undefined;
  const familyIds = await revokeStartedBy(deps, session);
  deps.events.emit('browser_session.ended', { reason: 'logout', userId: session.userId, familyIds, ...origin });
  return session;
}

function revokeStartedBy(deps: BrowserSessionDeps, session: BrowserSession): Promise<string[]> {
  return revokeSessionsWhere(deps, session.userId, (family) => family.browserSessionId === session.id);
}

/** The live refresh-token families a browser session started, optionally only one client's. */
export async function browserSessionFamilies(deps: Pick<BrowserSessionDeps, 'families' | 'clock'>, session: Pick<BrowserSession, 'id' | 'userId'>, clientId?: string): Promise<Family[]> {
  const families = await deps.families.listFamilies(session.userId, deps.clock.now());
  return families.filter((family) => family.browserSessionId === session.id && (clientId === undefined || family.clientId === clientId));
}

/**
 * Cookie mode: the refresh token a logout finds in the cookie ends with it (its family may
 * predate the session); with `clientId`, only when it is that client's.
 */
export async function revokeRefreshToken(deps: Pick<BrowserSessionDeps, 'families' | 'clock' | 'config'>, token: string | undefined, clientId?: string): Promise<void> {
  const presented = token === undefined ? undefined : parseRefreshToken(token);
  if (!presented) return;
  const now = deps.clock.now();
  const family = await deps.families.currentFamily(presented.familyId, hashRefreshSecret(presented.secret), now);
  if (family && (clientId === undefined || family.clientId === clientId)) await deps.families.revokeFamily(family.id, familyPolicy(deps.config), now);
}
