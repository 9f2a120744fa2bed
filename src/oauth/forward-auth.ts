import { hasAllScopes, parseScope } from '../identity/scopes';
import { audienceIncludes } from '../tokens/audience';
import { subjectType } from '../tokens/subject-type';
import type { AccessTokenChecker } from './access-token-check';
import { bearerChallenge } from './bearer';
import { authenticateBearer, insufficientScopeError, REALM } from './bearer-auth';
import { OAuthError } from './errors';

// HOT PATH. Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Envoy
// ext_authz). Budget: one signature check (cached per token), no database, one Redis round trip.
// The audience and scope checks read the verified claims only.

/** What the gateway's subrequest asks, as query parameters, each given at most once. */
export interface ForwardAuthRequest {
  readonly authorization: string | undefined;
  /** Space-delimited scopes the token must all carry (RFC 6749 §3.3 syntax). */
  readonly scope: string | undefined;
  /** The resource service's identifier, which the token's `aud` must contain (RFC 7519 §4.1.3). */
  readonly audience: string | undefined;
}

/** Header values must be visible ASCII; anything else (a non-Latin username) is percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

// An audience is one identifier (RFC 8707 §2: an absolute URI), so it has no spaces: that is
// what lets X-Auth-Audience list several space-separated, as `scope` does.
const AUDIENCE = /^[\x21-\x7e]+$/;

/**
 * RFC 7519 §4.1.3: a token whose `aud` does not name this service must be rejected. The token is
 * otherwise valid, so this is no `insufficient_scope` (more scope would not help); RFC 6750 §3.1
 * `invalid_token` covers "invalid for other reasons". The status is 403, not 401: the credentials
 * were recognised, and asking the same client to authenticate again would not change the answer.
 */
function wrongAudienceError(): OAuthError {
  const description = 'the token is not for this audience';
  return new OAuthError('invalid_token', description, { status: 403, wwwAuthenticate: bearerChallenge(REALM, { code: 'invalid_token', description }) });
}

/**
 * Checks the request's bearer token; when `audience` is given, that the token's `aud` contains it
 * exactly; when `scope` is given, that the token carries every scope in it. Returns the identity
 * headers for the upstream; throws RFC 6750 errors.
 */
export async function forwardAuth(checker: AccessTokenChecker, { authorization, scope, audience }: ForwardAuthRequest): Promise<Record<string, string>> {
  const required = scope === undefined ? [] : parseScope(scope);
  if (!required) throw new OAuthError('invalid_request', 'malformed scope parameter');
  if (audience !== undefined && !AUDIENCE.test(audience)) throw new OAuthError('invalid_request', 'malformed audience parameter');
  const { claims, scopes } = await authenticateBearer(checker, authorization);
  if (audience !== undefined && !audienceIncludes(claims.aud, audience)) throw wrongAudienceError();
  if (!hasAllScopes(scopes, required)) throw insufficientScopeError(required, `the token lacks a required scope: ${required.join(' ')}`);
  return {
    'X-Auth-Subject': claims.sub,
    'X-Auth-Subject-Type': subjectType(claims),
    ...(claims.username !== undefined ? { 'X-Auth-Username': headerSafe(claims.username) } : {}),
    'X-Auth-Scopes': claims.scope ?? '',
    'X-Auth-Client-Id': claims.client_id,
    'X-Auth-Audience': headerSafe(typeof claims.aud === 'string' ? claims.aud : claims.aud.join(' ')),
  };
}
