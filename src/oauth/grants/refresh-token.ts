import { z } from 'zod';
import { findTokenSubject, signInRefusal, type TokenSubject } from '../../identity/token-subject';
import type { Family, RotationResult } from '../../store/families';
import { issueAccessToken } from '../../tokens/access-token';
import { hashRefreshSecret, newRefreshToken, openSuccessor, parseRefreshToken, sealSuccessor, type RefreshToken } from '../../tokens/refresh-token';
import type { ClientWithSecret } from '../../identity/clients';
import { OAuthError } from '../errors';
import type { Origin } from '../../events/catalogue';
import { isDatabaseOutage } from '../../db/outage';
import { required } from '../params';
import { familyPolicy } from '../refresh-policy';
import { grantScope } from '../scope-policy';
import { tokenResponse, resourceParameter, scopeParameter, type Grant, type GrantDeps, type GrantRequest } from './grant';

/** The refresh grant's slice: families (no revocation epochs, no throttle, no password hashing). */
type RefreshDeps = Pick<GrantDeps, 'db' | 'families' | 'keyring' | 'clock' | 'config' | 'log' | 'events'>;

// RFC 6749 §5.2: every unusable refresh token is the same invalid_grant, whatever the reason
// (unknown, expired, revoked, stale, another client's): the reason goes to the log only.
const unusable = () => new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');

/**
 * A `scope` may only narrow (RFC 6749 §6) and a `resource` must be the login's (RFC 8707 §2.2).
 * Checked before rotating, so a client asking too much keeps its token; this costs a read only
 * when a client sends either parameter, never on a plain refresh.
 *
 * The read is by the presented token, not by the family id alone: the family id is no secret (it
 * is every access token's `sid`), so answering invalid_scope or invalid_target to a made-up
 * secret would tell anyone who saw a `sid` the login's scope and audience. Only the holder of the
 * current token gets a scope or resource answer here; every other presentation (a made-up
 * secret, a used token, another client's, a dead family) goes to rotation, which answers the
 * same invalid_grant (RFC 6749 §5.2) and, for a used token, detects the theft. The previous token
 * inside the grace window is rotation's 'replayed' and meets checkNarrowing after it.
 */
async function precheck(deps: RefreshDeps, presented: RefreshToken, presentedHash: string, client: ClientWithSecret, scope: string | undefined, resource: string | undefined): Promise<void> {
  if (scope === undefined && resource === undefined) return;
  const family = await deps.families.currentFamily(presented.familyId, presentedHash, deps.clock.now());
  if (!family || family.clientId !== client.id) return; // rotation gives the answer
  checkNarrowing(family, scope, resource);
}

function checkNarrowing(family: Family, scope: string | undefined, resource: string | undefined): readonly string[] {
  if (resource !== undefined && resource !== family.audience) throw new OAuthError('invalid_target', 'resource differs from the one originally granted');
  return scope === undefined ? family.scope : grantScope(scope, [], [family.scope]);
}

/** The rotation outcome as the token to hand back, or the refusal (logged with its reason). */
function successorOf(result: RotationResult, presented: RefreshToken, fresh: RefreshToken, request: GrantRequest, deps: RefreshDeps): { family: Family; refreshToken: string } {
  const context = { familyId: presented.familyId, clientId: request.client.id, ip: request.ip, requestId: request.requestId };
  switch (result.outcome) {
    case 'rotated':
      return { family: result.family, refreshToken: fresh.token };
    case 'replayed': {
      // The same presentation again inside the grace window: the successor already issued.
      const successor = openSuccessor(presented, result.successorBox);
      if (successor === undefined) throw unusable();
      deps.events.emit('refresh.replayed', { ...context, userId: result.family.userId });
      return { family: result.family, refreshToken: successor };
    }
    case 'reused':
      // One event: the store revoked the family in the same atomic step that saw the reuse.
      deps.events.emit('refresh.reuse_detected', { ...context, userId: result.family.userId, generation: result.family.generation });
      throw unusable();
    default:
      deps.events.emit('refresh.refused', { reason: result.outcome, ...context });
      throw unusable();
  }
}

type Subject = Pick<TokenSubject, 'id' | 'username' | 'roles' | 'scopes'>;

/**
 * The roles and scopes for the next access token. The family carries them (written at login,
 * replaced by every role or scope change made through the API or CLI), so a rotation reads no
 * database. A snapshot older than REFRESH_SUBJECT_MAX_AGE is read again from the database, which
 * also catches changes made there directly, and written back for the rotations after it.
 */
async function subjectOf(deps: RefreshDeps, family: Family, origin: Origin): Promise<Subject> {
  const now = deps.clock.now();
  const maxAgeMs = deps.config.refresh.subjectMaxAgeSec * 1000;
  const { subject, username } = family;
  const snapshot = subject && username !== undefined ? { id: family.userId, username, roles: subject.roles, scopes: subject.scopes } : undefined;
  if (snapshot && now - subject!.at < maxAgeMs) return snapshot;
  let user: TokenSubject;
  try {
    user = await currentUser(deps, family, origin);
  } catch (error) {
    // The token is already rotated: failing now would spend it, and a retry after the grace
    // window would look like theft and end the login. While the database cannot answer, a
    // snapshot up to twice REFRESH_SUBJECT_MAX_AGE old serves (changes through the API and CLI
    // rewrite it at once; only a change made in the database directly waits, now up to twice
    // as long), and it is read again on the next rotation after the database is back. Older, or
    // with REFRESH_SUBJECT_MAX_AGE=0 (every rotation must read), the outage answers 503.
    if (snapshot && isDatabaseOutage(error) && maxAgeMs > 0 && now - subject!.at < 2 * maxAgeMs) {
      deps.log.warn({ event: 'refresh.subject_stale', familyId: family.id, userId: family.userId, ageSec: Math.round((now - subject!.at) / 1000) }, 'database unavailable: refresh served from the family\'s roles and scopes');
      return snapshot;
    }
    throw error;
  }
  if (maxAgeMs > 0) await deps.families.setFamilySubject(family.id, { roles: user.roles, scopes: user.scopes, at: now }, now);
  return user;
}

/** The user behind a family must still be allowed in; if not, the whole family ends now. */
async function currentUser(deps: RefreshDeps, family: Family, origin: Origin): Promise<TokenSubject> {
  const user = await findTokenSubject(deps.db, family.userId);
  const reason = signInRefusal(user, family.authenticatedAt);
  if (!user || reason) {
    await deps.families.revokeFamily(family.id, familyPolicy(deps.config), deps.clock.now());
    deps.events.emit('refresh.refused', { reason: reason ?? 'user_deleted', familyId: family.id, userId: family.userId, clientId: family.clientId, ...origin });
    throw unusable();
  }
  return user;
}

/** RFC 6749 §6 with rotation (OAuth 2.0 Security BCP §4.14): each refresh token works once. */
export const refreshTokenGrant: Grant = {
  type: 'refresh_token',
  parameters: z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: z.string().describe('the refresh token; cookie-mode clients leave it out and send X-Portcullis-Refresh: cookie'),
    scope: scopeParameter.describe('only a subset of the sign-in\'s scope').optional(),
    resource: resourceParameter.describe('only the sign-in\'s audience').optional(),
  }),
  async handle(request, deps: RefreshDeps) {
    const { client, params } = request;
    const presented = parseRefreshToken(required(params, 'refresh_token'));
    if (!presented) throw unusable();
    const requestedScope = params.get('scope');
    const resource = params.get('resource');
    const presentedHash = hashRefreshSecret(presented.secret);
    await precheck(deps, presented, presentedHash, client, requestedScope, resource);

    // One atomic step in the store: check the presented token and install its successor.
    const fresh = newRefreshToken(presented.familyId);
    const result = await deps.families.rotate(
      { familyId: presented.familyId, clientId: client.id, presentedHash, nextHash: hashRefreshSecret(fresh.secret), successorBox: sealSuccessor(presented, fresh.token) },
      familyPolicy(deps.config, client),
      deps.clock.now(),
    );
    const { family, refreshToken } = successorOf(result, presented, fresh, request, deps);
    // A family older than its client was started with an earlier client of the same id, since
    // deleted (deletion ends access tokens through the client epoch, not families): it ends here.
    if (family.createdAt < client.createdAt.getTime()) {
      await deps.families.revokeFamily(family.id, familyPolicy(deps.config), deps.clock.now());
      deps.events.emit('refresh.refused', { reason: 'client_recreated', familyId: family.id, clientId: client.id, ip: request.ip, requestId: request.requestId });
      throw unusable();
    }
    // Only a proven token gets here. A grace-window replay skipped precheck (its token is no
    // longer the current one), so this is where it meets the scope and resource rules.
    const asked = checkNarrowing(family, requestedScope, resource);
    const user = await subjectOf(deps, family, { ip: request.ip, requestId: request.requestId });

    // Never wider than the login, and never more than the user and client hold today: a role
    // removed since the login narrows the next access token.
    const scope = grantScope(undefined, asked, [user.scopes, client.scopes]);
    const issued = issueAccessToken(deps, { sub: user.id, clientId: client.id, scope, audience: family.audience, username: user.username, roles: user.roles, familyId: family.id });
    deps.events.emit('token.refreshed', { userId: user.id, clientId: client.id, secretId: request.secretId, familyId: family.id, jti: issued.jti, scope: scope.join(' '), ip: request.ip, requestId: request.requestId });
    return tokenResponse(issued, scope, refreshToken);
  },
};
