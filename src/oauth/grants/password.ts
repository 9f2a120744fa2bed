import { z } from 'zod';
import { checkLogin } from '../../identity/authenticate';
import { throttledCheck } from '../../identity/credential-throttle';
import { hasScope } from '../../identity/scopes';
import { effectiveScopes } from '../../identity/users';
import { issueAccessToken } from '../../tokens/access-token';
import { pickAudience } from '../audience';
import { OAuthError } from '../errors';
import { startFamily } from '../refresh-family';
import { required } from '../params';
import { grantScope } from '../scope-policy';
import { tokenResponse, resourceParameter, scopeParameter, type Grant, type GrantDeps } from './grant';

/** RFC 6749 §4.3: resource owner password credentials, for first-party clients. */
export const passwordGrant: Grant = {
  type: 'password',
  parameters: z.object({
    grant_type: z.literal('password'),
    username: z.string(),
    password: z.string(),
    scope: scopeParameter.optional(),
    resource: resourceParameter.optional(),
  }),
  async handle({ client, secretId, params, ip, requestId, userAgent, signal }, deps: GrantDeps) {
    const username = required(params, 'username');
    const password = required(params, 'password');
    const now = new Date(deps.clock.now());

    // Refused (429) before any hashing when this username has failed too often from this
    // address, or this address too often for anyone (identity/credential-throttle.ts). A full
    // hash queue (503) or this address's share of it taken (429) is answered by the error
    // middleware, the same for every endpoint that hashes a password; it cancels the attempt.
    const user = await throttledCheck(deps, { name: username, address: ip, clientId: client.id, requestId }, async () => {
      const { user: found, userExists } = await checkLogin(deps, username, password, now, { signal, owner: ip });
      return { ok: found !== undefined && !found.disabled, value: found, known: userExists };
    });
    if (!user || user.disabled) {
      // RFC 6749 §5.2 invalid_grant, one answer for an unknown user, a wrong password and a
      // disabled user: telling "disabled" apart would confirm both the username and its password.
      // The log keeps the difference (login.failed comes from the throttle, with its counts).
      if (user) deps.events.emit('login.disabled', { userId: user.id, clientId: client.id, ip, requestId });
      throw new OAuthError('invalid_grant', 'invalid username or password');
    }

    const readAt = deps.clock.now();
    const held = await effectiveScopes(deps.db, user.id);
    const scope = grantScope(params.get('scope'), client.defaultScopes, [held, client.scopes]);
    const audience = pickAudience(params.get('resource'), client, deps.config.defaultAudience);
    // A client allowed the refresh_token grant gets a refresh token: one new family per login,
    // carrying the roles and scopes just read so its rotations need not read them again.
    const family = client.grantTypes.includes('refresh_token')
      ? await startFamily(deps, { userId: user.id, username: user.username, clientId: client.id, client, scope, audience, ip, userAgent, subject: { roles: user.roles, scopes: held, at: readAt } })
      : undefined;
    // A role or scope removed while this login ran narrows its first access token too.
    const granted = family ? scope.filter((name) => hasScope(family.subject.scopes, name)) : scope;
    const roles = family ? family.subject.roles : user.roles;
    const issued = issueAccessToken(deps, { sub: user.id, clientId: client.id, scope: granted, audience, username: user.username, roles, familyId: family?.familyId });
    deps.events.emit('token.issued', { grant: 'password', userId: user.id, clientId: client.id, secretId, jti: issued.jti, familyId: family?.familyId, scope: granted.join(' '), ip, requestId });
    return tokenResponse(issued, granted, family?.refreshToken);
  },
};
