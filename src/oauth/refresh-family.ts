import { findTokenSubject, signInRefusal } from '../identity/token-subject';
import { hashRefreshSecret, newFamilyId, newRefreshToken } from '../tokens/refresh-token';
import type { SubjectSnapshot } from '../store/families';
import { sameSet } from '../sets';
import { OAuthError } from './errors';
import type { GrantDeps } from './grants/grant';

type FamilyDeps = Pick<GrantDeps, 'db' | 'families' | 'clock' | 'config' | 'log' | 'events'>;
import { familyPolicy, type PolicyClient } from './refresh-policy';

export interface FamilyStart {
  readonly userId: string;
  readonly username: string;
  readonly clientId: string;
  /** The client's refresh lifetimes (refresh-policy.ts): a public client's are shorter. */
  readonly client: PolicyClient;
  /** The browser session this login came from (the code flow): logging out of it ends the family. */
  readonly browserSessionId?: string | undefined;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** The user's roles and effective scopes as read for this login. */
  readonly subject: SubjectSnapshot;
}

/**
 * Starts a refresh-token family for a fresh login and returns its first token, with the user's
 * roles and scopes as confirmed after the family was written (the login's access token must not
 * carry more). Logins beyond the per-user, per-client limit push out the oldest.
 */
export async function startFamily(deps: FamilyDeps, start: FamilyStart): Promise<{ familyId: string; refreshToken: string; subject: SubjectSnapshot }> {
  const familyId = newFamilyId(start.userId);
  const first = newRefreshToken(familyId);
  const { evicted } = await deps.families.createFamily(
    { id: familyId, userId: start.userId, username: start.username, clientId: start.clientId, scope: start.scope, audience: start.audience, secretHash: hashRefreshSecret(first.secret), ip: start.ip, userAgent: start.userAgent, subject: start.subject, browserSessionId: start.browserSessionId },
    familyPolicy(deps.config, start.client),
    deps.clock.now(),
  );
  const subject = await confirmSubject(deps, familyId, start);
  if (evicted.length > 0) {
    deps.events.emit('session.evicted', { userId: start.userId, clientId: start.clientId, familyIds: evicted });
  }
  return { familyId, refreshToken: first.token, subject };
}

/**
 * A change that committed after the login read the user, but walked the user's families before
 * this one was written, did not reach it. Now that the family is listed (every later change will
 * find it), read the user once more: a user disabled, deleted or given a new password meanwhile
 * ends the family and the login; moved roles or scopes correct its snapshot.
 */
async function confirmSubject(deps: FamilyDeps, familyId: string, start: FamilyStart): Promise<SubjectSnapshot> {
  const readAt = deps.clock.now();
  const current = await findTokenSubject(deps.db, start.userId);
  if (!current || signInRefusal(current, start.subject.at)) {
    await deps.families.revokeFamily(familyId, familyPolicy(deps.config), readAt);
    throw new OAuthError('invalid_grant', 'invalid username or password');
  }
  if (sameSet(current.roles, start.subject.roles) && sameSet(current.scopes, start.subject.scopes)) return start.subject;
  const confirmed = { roles: current.roles, scopes: current.scopes, at: readAt };
  await deps.families.setFamilySubject(familyId, confirmed, readAt);
  return confirmed;
}
