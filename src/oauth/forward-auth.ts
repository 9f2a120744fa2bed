import { hasAllScopes, parseScope } from '../identity/scopes';
import type { AccessTokenChecker } from './access-token-check';
import { authenticateBearer, insufficientScopeError } from './bearer-auth';
import { OAuthError } from './errors';

// HOT PATH. Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Envoy
// ext_authz). Budget: one signature check (cached per token), no database, one Redis round trip.

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
  const { claims, scopes } = await authenticateBearer(checker, authorization);
  if (!hasAllScopes(scopes, required)) throw insufficientScopeError(required, `the token lacks a required scope: ${required.join(' ')}`);
  return {
    'X-Auth-Subject': claims.sub,
    ...(claims.username !== undefined ? { 'X-Auth-Username': headerSafe(claims.username) } : {}),
    'X-Auth-Scopes': claims.scope ?? '',
    'X-Auth-Client-Id': claims.client_id,
  };
}
