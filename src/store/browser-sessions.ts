import { browserSessionTag, userTag } from './user-tag';

/**
 * Browser sessions: the hosted login page's sign-in, carried by the `__Host-portcullis_session`
 * cookie. Not to be confused with a refresh-token family (a "session" in the account API): a
 * browser session lets /oauth/authorize answer without the form; families record which browser
 * session started them, so logging out ends both.
 *
 * The store knows a session by its id: SHA-256 of the cookie value plus the user's tag
 * (tokens/browser-session-cookie.ts), so the cookie never reaches the store and, on Redis Cluster,
 * a session lives in its user's slot. Times are Unix milliseconds from the caller's clock.
 */
export interface BrowserSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  /** When the user last entered their password in this session. */
  readonly authenticatedAt: number;
  readonly lastSeenAt: number;
  readonly absoluteExpiresAt: number;
  readonly idleExpiresAt: number;
}

export interface NewBrowserSession {
  /** Ends with the user's tag (tokens/browser-session-cookie.ts): the store refuses any other. */
  readonly id: string;
  readonly userId: string;
  readonly absoluteExpiresAt: number;
  readonly idleTtlMs: number;
}

export interface BrowserSessionStore {
  /**
   * Starts a session (authenticatedAt = createdAt = lastSeenAt = now, idle expiry now +
   * idleTtlMs, never past the absolute end) and lists it under its user.
   */
  createBrowserSession(session: NewBrowserSession, now: number): Promise<void>;
  /**
   * The live session with this id, its idle expiry moved to now + idleTtlMs (never past its
   * absolute end) in the same step; undefined when unknown, ended or expired.
   */
  touchBrowserSession(id: string, idleTtlMs: number, now: number): Promise<BrowserSession | undefined>;
  /** Ends one session; returns it as it was when it was live, undefined when it was not. */
  endBrowserSession(id: string, now: number): Promise<BrowserSession | undefined>;
  /** Ends every session of the user (disable, new password, log out everywhere); returns how many were live. */
  endUserBrowserSessions(userId: string, now: number): Promise<number>;
}

/** Live: neither its idle nor its absolute end has come. Ended sessions are not kept at all. */
export function isLiveBrowserSession(session: Pick<BrowserSession, 'absoluteExpiresAt' | 'idleExpiresAt'>, now: number): boolean {
  return now < session.absoluteExpiresAt && now < session.idleExpiresAt;
}

/**
 * A session's id must end with its user's tag: on Redis Cluster the session, found by id alone,
 * and its user's index must share a slot. Every backend refuses otherwise, so that a mistake
 * shows in the tests on the in-process store too.
 */
export function checkBrowserSessionUser(session: Pick<NewBrowserSession, 'id' | 'userId'>): void {
  if (browserSessionTag(session.id) !== userTag(session.userId)) throw new Error("a browser session's id must end with its user's tag");
}
