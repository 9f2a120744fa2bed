import type { Clock } from '../clock';
import { endAccessNow } from '../identity/user-lifecycle';
import type { Config } from '../config/config';
import type { BrowserSessionStore } from '../store/browser-sessions';
import type { Family, FamilyStore } from '../store/families';
import type { RevocationStore } from '../store/revocations';
import { familyPolicy } from './refresh-policy';

/** A login as its owner (or an admin) sees it: one live refresh-token family. */
export interface Session {
  readonly id: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly createdAt: string;
  readonly lastUsedAt: string;
  /** When it ends without further use (idle), never later than its absolute end. */
  readonly expiresAt: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface SessionDeps {
  readonly families: FamilyStore;
  /** Only log-out-everywhere ends access tokens outside a session. */
  readonly revocations: Pick<RevocationStore, 'revokeUserTokensBefore'>;
  /** Log out everywhere also signs every browser out. */
  readonly browserSessions: Pick<BrowserSessionStore, 'endUserBrowserSessions'>;
  readonly clock: Clock;
  readonly config: Pick<Config, 'refresh' | 'accessTokenTtlSec'>;
}

export function describeSession(family: Family): Session {
  return {
    id: family.id,
    clientId: family.clientId,
    scope: family.scope,
    createdAt: new Date(family.createdAt).toISOString(),
    lastUsedAt: new Date(family.lastUsedAt).toISOString(),
    expiresAt: new Date(Math.min(family.idleExpiresAt, family.absoluteExpiresAt)).toISOString(),
    ip: family.ip ?? null,
    userAgent: family.userAgent ?? null,
  };
}

/** The user's live sessions, oldest first. */
export async function listSessions(deps: Omit<SessionDeps, 'revocations' | 'browserSessions'>, userId: string): Promise<Session[]> {
  return (await deps.families.listFamilies(userId, deps.clock.now())).map(describeSession);
}

/**
 * Ends every live session (family) of the user that `which` picks: a withdrawn consent ends the
 * client's, a browser logout those it started. Returns the ids of those that were live.
 */
export async function revokeSessionsWhere(deps: Omit<SessionDeps, 'revocations' | 'browserSessions'>, userId: string, which: (family: Family) => boolean): Promise<string[]> {
  const now = deps.clock.now();
  const ended: string[] = [];
  for (const family of (await deps.families.listFamilies(userId, now)).filter(which)) {
    if ((await deps.families.revokeFamily(family.id, familyPolicy(deps.config), now)) !== undefined) ended.push(family.id);
  }
  return ended;
}

/**
 * Ends one session of the user: its refresh tokens stop at once and its access tokens fail
 * introspection. False when the user has no such live session (another user's counts as none).
 */
export async function revokeSession(deps: Omit<SessionDeps, 'revocations' | 'browserSessions'>, userId: string, sessionId: string): Promise<boolean> {
  const now = deps.clock.now();
  const family = await deps.families.getFamily(sessionId, now);
  if (!family || family.userId !== userId) return false;
  return (await deps.families.revokeFamily(sessionId, familyPolicy(deps.config), now)) !== undefined;
}

/**
 * Log out everywhere: ends every session of the user, every browser sign-in, and every access
 * token issued to them so far, including those that belong to no session (logins through
 * clients without the refresh grant carry no `sid`). Returns how many sessions were live.
 */
export function revokeAllSessions(deps: SessionDeps, userId: string): Promise<number> {
  return endAccessNow(deps, userId);
}
