import type { AccessTokenChecker } from './access-token-check';
import { bearerChallenge, parseBearer } from './bearer';
import { OAuthError } from './errors';
import type { AccessTokenClaims } from '../tokens/verify-access-token';

// RFC 6750 bearer authentication on our own endpoints (forward-auth, the account and admin
// APIs), with the introspection check: one signature check, one Redis round trip, no database.

export const REALM = 'portcullis';

/** The bearer of a verified access token. */
export interface BearerCaller {
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly string[];
}

/** RFC 6750 §3.1 invalid_token, with its challenge. */
export function invalidTokenError(description: string): OAuthError {
  return new OAuthError('invalid_token', description, { wwwAuthenticate: bearerChallenge(REALM, { code: 'invalid_token', description }) });
}

/** RFC 6750 §3.1: a request without credentials gets a challenge without an error code. */
export function bearerRequiredError(): OAuthError {
  return new OAuthError('invalid_token', 'a bearer token is required', { wwwAuthenticate: bearerChallenge(REALM) });
}

/** RFC 6750 §3.1 insufficient_scope, naming the scopes in the challenge. */
export function insufficientScopeError(scopes: readonly string[], description: string): OAuthError {
  return new OAuthError('insufficient_scope', description, { wwwAuthenticate: bearerChallenge(REALM, { code: 'insufficient_scope', scope: scopes.join(' ') }) });
}

/** The caller behind `Authorization: Bearer`, or the RFC 6750 error to answer with. */
export async function authenticateBearer(checker: AccessTokenChecker, authorization: string | undefined): Promise<BearerCaller> {
  const bearer = parseBearer(authorization);
  if (bearer.kind === 'missing') throw bearerRequiredError();
  if (bearer.kind === 'malformed') throw invalidTokenError('malformed Authorization header');
  const check = await checker.check(bearer.token);
  if (!check.active) throw invalidTokenError(check.reason === 'expired' ? 'the token has expired' : 'the token is invalid or revoked');
  const { claims } = check;
  return { claims, scopes: claims.scope === undefined ? [] : claims.scope.split(' ') };
}
