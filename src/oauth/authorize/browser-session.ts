import type { Deps } from '../../deps';
import { findTokenSubject, signInRefusal, type TokenSubject } from '../../identity/token-subject';
import type { BrowserSession } from '../../store/browser-sessions';
import type { Family } from '../../store/families';
import { browserSessionIdOf, newBrowserSessionCookie } from '../../tokens/browser-session-cookie';
import { familyPolicy } from '../refresh-policy';

export type SessionDeps = Pick<Deps, 'db' | 'browserSessions' | 'families' | 'clock' | 'config' | 'log'>;

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
export async function resumeSession(deps: SessionDeps, cookie: string | undefined): Promise<SignedIn | undefined> {
  const id = cookie === undefined ? undefined : browserSessionIdOf(cookie);
  if (id === undefined) return undefined;
  const now = deps.clock.now();
  const session = await deps.browserSessions.touchBrowserSession(id, deps.config.browser.sessionIdleTtlSec * 1000, now);
  if (!session) return undefined;
  const user = await findTokenSubject(deps.db, session.userId);
  const refusal = signInRefusal(user, session.authenticatedAt);
  if (!user || refusal) {
    await deps.browserSessions.endBrowserSession(id, now);
    deps.log.info({ event: 'browser_session.ended', reason: refusal, userId: session.userId }, 'browser session ended: its user may no longer sign in');
    return undefined;
  }
  return { session, user };
}

/** Starts a browser session for a user who has just proved their password; returns the cookie value. */
export async function startSession(deps: SessionDeps, userId: string): Promise<{ cookie: string; session: BrowserSession }> {
  const now = deps.clock.now();
  const { cookie, id } = newBrowserSessionCookie(userId);
  const { sessionTtlSec, sessionIdleTtlSec } = deps.config.browser;
  await deps.browserSessions.createBrowserSession({ id, userId, absoluteExpiresAt: now + sessionTtlSec * 1000, idleTtlMs: sessionIdleTtlSec * 1000 }, now);
  const session = await deps.browserSessions.touchBrowserSession(id, sessionIdleTtlSec * 1000, now);
  if (!session) throw new Error('a browser session just created could not be read back');
  deps.log.info({ event: 'browser_session.started', userId }, 'browser session started');
  return { cookie, session };
}

/**
 * Ends the session the cookie names and revokes the refresh-token families it started (and so
 * their access tokens, which introspection checks against their family). Returns the session
 * when there was a live one.
 */
export async function endSession(deps: SessionDeps, cookie: string | undefined): Promise<BrowserSession | undefined> {
  const id = cookie === undefined ? undefined : browserSessionIdOf(cookie);
  if (id === undefined) return undefined;
  const now = deps.clock.now();
  const session = await deps.browserSessions.endBrowserSession(id, now);
  if (!session) return undefined;
  const started = await sessionFamilies(deps, session);
  for (const family of started) await deps.families.revokeFamily(family.id, familyPolicy(deps.config), now);
  deps.log.info({ event: 'browser_session.ended', reason: 'logout', userId: session.userId, familyIds: started.map((family) => family.id) }, 'browser session ended by logout');
  return session;
}

/** The live refresh-token families a browser session started, optionally only one client's. */
export async function sessionFamilies(deps: Pick<SessionDeps, 'families' | 'clock'>, session: BrowserSession, clientId?: string): Promise<Family[]> {
  const families = await deps.families.listFamilies(session.userId, deps.clock.now());
  return families.filter((family) => family.browserSessionId === session.id && (clientId === undefined || family.clientId === clientId));
}
