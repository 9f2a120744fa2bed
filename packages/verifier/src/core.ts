// @portcullis/verifier/core — the framework-free verifier: options in, `verify(request)` out.
//
//   const auth = createRequestVerifier({ mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   const result = await auth.verify({ headers }, { scopes: ['items:read'] });
//   if (!result.ok) answer(result.status, result.headers, result.body); else use(result.auth);
import { IntrospectVerifier } from './introspect-mode.js';
import { JwksVerifier } from './jwks-mode.js';
import { requestVerifier, type RequestVerifier } from './request-verifier.js';
import type { TokenVerifier, VerifierOptions } from './types.js';

export type { BearerRequest, Refusal, RefusalError, RequestHeaders, RequestVerifier, Requirement, Verified, VerifyResult } from './request-verifier.js';
export type { AuthInfo, IntrospectModeOptions, JwksModeOptions, TokenVerifier, VerifierOptions } from './types.js';
export type { SubjectType } from './subject-type.js';
export type { Guards } from './guards.js';
export { requestVerifier } from './request-verifier.js';
export { IntrospectionUnavailableError } from './introspect-mode.js';
export { hasAllScopes, hasScope } from './scopes.js';

/**
 * `audience` is required by the type; plain-JavaScript callers get the same rule at start-up, so
 * a forgotten option fails loudly instead of accepting every audience.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const { audience } = options as { audience?: unknown };
  if (typeof audience !== 'string' || audience.trim() === '') throw new TypeError('createVerifier: `audience` (this service\'s identifier, which tokens must name in `aud`) is required');
  return options.mode === 'jwks' ? new JwksVerifier(options) : new IntrospectVerifier(options);
}

export function createRequestVerifier(options: VerifierOptions): RequestVerifier {
  return requestVerifier(createTokenVerifier(options), options.realm ?? 'api');
}
