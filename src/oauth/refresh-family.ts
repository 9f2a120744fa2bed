import { hashRefreshSecret, newFamilyId, newRefreshToken } from '../tokens/refresh-token';
import type { SubjectSnapshot } from '../store/families';
import type { GrantDeps } from './grants/grant';
import { familyPolicy } from './refresh-policy';

export interface FamilyStart {
  readonly userId: string;
  readonly username: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** The user's roles and effective scopes as read for this login. */
  readonly subject: SubjectSnapshot;
}

/**
 * Starts a refresh-token family for a fresh login and returns its first token. Logins beyond the
 * per-user, per-client limit push out the oldest (the store revokes them atomically).
 */
export async function startFamily(deps: GrantDeps, start: FamilyStart): Promise<{ familyId: string; refreshToken: string }> {
  const familyId = newFamilyId();
  const first = newRefreshToken(familyId);
  const { evicted } = await deps.store.createFamily(
    { id: familyId, userId: start.userId, username: start.username, clientId: start.clientId, scope: start.scope, audience: start.audience, secretHash: hashRefreshSecret(first.secret), ip: start.ip, userAgent: start.userAgent, subject: start.subject },
    familyPolicy(deps.config),
    deps.clock.now(),
  );
  if (evicted.length > 0) {
    deps.log.info({ event: 'session.evicted', userId: start.userId, clientId: start.clientId, familyIds: evicted }, 'oldest sessions ended: per-user session limit reached');
  }
  return { familyId, refreshToken: first.token };
}
