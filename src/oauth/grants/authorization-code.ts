import { z } from 'zod';
import { nowSeconds } from '../../clock';
import { findTokenSubject, signInRefusal } from '../../identity/token-subject';
import { isThirdParty } from '../../identity/client-sign-in';
import { findConsent } from '../../identity/consents';
import { hasScope } from '../../identity/scopes';
import type { AuthorizationCode, CodeIssue } from '../../store/codes';
import { issueAccessToken } from '../../tokens/access-token';
import { authorizationCodeKey, isAuthorizationCode, isCodeVerifier, s256Challenge } from '../../tokens/authorization-code';
import { OAuthError } from '../errors';
import { required } from '../params';
import { startFamily } from '../refresh-family';
import { familyPolicy } from '../refresh-policy';
import { tokenResponse, type Grant, type GrantDeps, type GrantRequest } from './grant';

type CodeDeps = Pick<GrantDeps, 'db' | 'codes' | 'browserSessions' | 'families' | 'revocations' | 'keyring' | 'clock' | 'config' | 'log' | 'events'>;

// RFC 6749 §5.2: every unusable code is the same invalid_grant; the reason goes to the log only.
const unusable = () => new OAuthError('invalid_grant', 'authorization code is invalid, expired or already used');

/**
 * RFC 6749 §4.1.2: a code used twice is refused "and SHOULD revoke all tokens previously
 * issued based on that authorization code": the family started by the first use ends (and
 * with it every access token carrying its `sid`), and the first access token is blacklisted.
 */
async function revokeIssued(deps: CodeDeps, code: AuthorizationCode, issued: CodeIssue | undefined): Promise<void> {
  if (!issued) return; // still issuing: the first use sees the replay when it records (below)
  const now = deps.clock.now();
  await deps.revocations.blacklistAccessToken(issued.jti, code.userId, issued.accessTokenExpiresAt, nowSeconds(deps.clock));
  if (issued.familyId !== undefined) await deps.families.revokeFamily(issued.familyId, familyPolicy(deps.config), now);
}

/** The code, spent; every check that can fail after this leaves it spent (it was single-use anyway). */
async function redeem(deps: CodeDeps, request: GrantRequest, codeHash: string): Promise<AuthorizationCode> {
  const { client, ip, requestId } = request;
  // Kept after its use while what it issued could still be alive, so a late replay still revokes it.
  const retainMs = (deps.config.accessTokenTtlSec + 60) * 1000;
  const result = await deps.codes.redeemCode(codeHash, retainMs, deps.clock.now());
  if (result.outcome === 'unknown') {
    deps.events.emit('code.refused', { reason: 'unknown', clientId: client.id, ip, requestId });
    throw unusable();
  }
  if (result.outcome === 'replayed') {
    await revokeIssued(deps, result.code, result.issued);
    deps.events.emit('code.replayed', { userId: result.code.userId, clientId: client.id, codeClientId: result.code.clientId, familyId: result.issued?.familyId, ip, requestId });
    throw unusable();
  }
  return result.code;
}

/** RFC 6749 §4.1.3 and RFC 7636 §4.6: the code grant for public (PKCE) and confidential clients. */
export const authorizationCodeGrant: Grant = {
  type: 'authorization_code',
  parameters: z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string(),
    redirect_uri: z.string().describe('the redirect_uri of the authorization request'),
    code_verifier: z.string().describe('RFC 7636 PKCE verifier (S256)'),
  }),
  async handle(request, deps: CodeDeps) {
    const { client, params, ip, requestId, userAgent } = request;
    const codeValue = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const verifier = required(params, 'code_verifier');
    if (!isCodeVerifier(verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
    if (!isAuthorizationCode(codeValue)) throw unusable();
    // The key binds the code to its client, redirect URI and challenge (tokens/authorization-code.ts):
    // a request with another client, URI or verifier finds no code ('unknown') and spends nothing.
    const codeHash = authorizationCodeKey(codeValue, { clientId: client.id, redirectUri, codeChallenge: s256Challenge(verifier) });
    const code = await redeem(deps, request, codeHash);

    const refuse = (reason: string) => {
      deps.events.emit('code.refused', { reason, userId: code.userId, clientId: client.id, ip, requestId });
      return unusable();
    };
    // The user as the database has them now: disabled, deleted or a new password since the
    // sign-in refuses the code; a role removed since narrows the scope.
    const readAt = deps.clock.now();
    const user = await findTokenSubject(deps.db, code.userId);
    const refusal = signInRefusal(user, code.authTime);
    if (!user || refusal) throw refuse(refusal ?? 'user_deleted');
    const scope = code.scope.filter((name) => hasScope(user.scopes, name) && hasScope(client.scopes, name));
    // A consent withdrawn since the code was issued withdraws the code too.
    if (isThirdParty(client)) {
      const granted = (await findConsent(deps.db, user.id, client.id)) ?? [];
      if (!scope.every((name) => hasScope(granted, name))) throw refuse('consent_withdrawn');
    }

    let family: Awaited<ReturnType<typeof startFamily>> | undefined;
    try {
      family = client.grantTypes.includes('refresh_token')
        ? await startFamily(deps, { userId: user.id, username: user.username, clientId: client.id, client, browserSessionId: code.browserSessionId, scope, audience: code.audience, ip, userAgent, subject: { roles: user.roles, scopes: user.scopes, at: readAt } })
        : undefined;
    } catch (error) {
      // The user changed while the family was being written (refresh-family.ts confirmSubject).
      if (error instanceof OAuthError && error.code === 'invalid_grant') throw refuse('user_changed');
      throw error;
    }
    // The browser session the code came from must still live. Checked after the family is
    // written: a logout that ended the session before this read is seen here, and one after it
    // finds the family in its list and revokes it; either way, nothing outlives the logout.
    const session = await deps.browserSessions.touchBrowserSession(code.browserSessionId, deps.config.browser.sessionIdleTtlSec * 1000, deps.clock.now());
    if (!session) {
      if (family) await deps.families.revokeFamily(family.familyId, familyPolicy(deps.config), deps.clock.now());
      throw refuse('browser_session_ended');
    }
    const granted = family ? scope.filter((name) => hasScope(family.subject.scopes, name)) : scope;
    const roles = family ? family.subject.roles : user.roles;
    const issued = issueAccessToken(deps, { sub: user.id, clientId: client.id, scope: granted, audience: code.audience, username: user.username, roles, familyId: family?.familyId });

    // A replay that came while this exchange was issuing found nothing to revoke yet: revoke here.
    const recorded = await deps.codes.recordCodeIssue(codeHash, { jti: issued.jti, accessTokenExpiresAt: issued.exp, familyId: family?.familyId }, deps.clock.now());
    if (recorded === 'replayed') {
      await revokeIssued(deps, code, { jti: issued.jti, accessTokenExpiresAt: issued.exp, familyId: family?.familyId });
      deps.events.emit('code.replayed', { userId: user.id, clientId: client.id, familyId: family?.familyId, ip, requestId });
      throw unusable();
    }
    deps.events.emit('token.issued', { grant: 'authorization_code', userId: user.id, clientId: client.id, secretId: request.secretId, jti: issued.jti, familyId: family?.familyId, scope: granted.join(' '), ip, requestId });
    return tokenResponse(issued, granted, family?.refreshToken);
  },
};
