import { hasAllScopes, parseScope } from '../identity/scopes';
import type { AccessTokenChecker } from './access-token-check';
import { bearerChallenge, parseBearer } from './bearer';
import { OAuthError } from './errors';

// HOT PATH. Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Envoy
// ext_authz). Budget: one signature check (cached per token), no database, one Redis round trip.

export const REALM = 'portcullis';

const invalidToken = (description: string) =>
  new OAuthError('invalid_token', description, { wwwAuthenticate: bearerChallenge(REALM, { code: 'invalid_token', description }) });

/** Header values must be visible ASCII; anything else (a non-Latin username) is percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/**
 * Checks the request's bearer token and, when `scope` is given, that the token carries every
 * scope in it. Returns the identity headers for the upstream; throws RFC 6750 errors.
 */
export async function forwardAuth(checker: AccessTokenChecker, authorization: string | undefined, scope: string | undefined): Promise<Record<string, string>> {
  const required = scope === undefined ? [] : parseScope(scope);
  if (!required) throw new OAuthError('invalid_request', 'malformed scope parameter');
  const bearer = parseBearer(authorization);
  if (bearer.kind === 'missing') throw new OAuthError('invalid_token', 'a bearer token is required', { wwwAuthenticate: bearerChallenge(REALM) });
  if (bearer.kind === 'malformed') throw invalidToken('malformed Authorization header');
  const check = await checker.check(bearer.token);
  if (!check.active) throw invalidToken(check.reason === 'expired' ? 'the token has expired' : 'the token is invalid or revoked');
  const held = check.claims.scope === undefined ? [] : check.claims.scope.split(' ');
  if (!hasAllScopes(held, required)) {
    const wanted = required.join(' ');
    throw new OAuthError('insufficient_scope', `the token lacks a required scope: ${wanted}`, {
      wwwAuthenticate: bearerChallenge(REALM, { code: 'insufficient_scope', scope: wanted }),
    });
  }
  const { claims } = check;
  return {
    'X-Auth-Subject': claims.sub,
    ...(claims.username !== undefined ? { 'X-Auth-Username': headerSafe(claims.username) } : {}),
    'X-Auth-Scopes': claims.scope ?? '',
    'X-Auth-Client-Id': claims.client_id,
  };
}
