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
  readonly id: string;
  readonly userId: string;
  readonly absoluteExpiresAt: number;
  readonly idleTtlMs: number;
}

export interface BrowserSessionStore {
  /** Starts a session (authenticatedAt = createdAt = now) and lists it under its user. */
  createBrowserSession(session: NewBrowserSession, now: number): Promise<void>;
  /**
   * The live session with this id, its idle expiry moved to now + idleTtlMs (never past its
   * absolute end) in the same step; undefined when unknown, ended or expired.
   */
  touchBrowserSession(id: string, idleTtlMs: number, now: number): Promise<BrowserSession | undefined>;
  /** Ends one session; returns it as it was when it was live. */
  endBrowserSession(id: string, now: number): Promise<BrowserSession | undefined>;
  /** Ends every session of the user (disable, new password, log out everywhere); returns how many were live. */
  endUserBrowserSessions(userId: string, now: number): Promise<number>;
}
