// portcullis/verifier — what a Koa resource service imports to accept Portcullis access tokens.
//
//   const auth = createVerifier({ mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   router.get('/items', auth.requireScopes('items:read'), (ctx) => { ctx.state.auth.sub ... });
import { IntrospectVerifier } from './introspect-mode';
import { JwksVerifier } from './jwks-mode';
import { VerifierMiddleware } from './middleware';
import type { TokenVerifier, VerifierOptions } from './types';

export type { AuthState } from './middleware';
export type { AuthInfo, IntrospectModeOptions, JwksModeOptions, TokenVerifier, VerifierOptions } from './types';
export type { SubjectType } from '../tokens/subject-type';
export { IntrospectionUnavailableError } from './introspect-mode';
export { hasAllScopes, hasScope } from '../identity/scopes';

export interface Verifier extends VerifierMiddleware {
  /** The token check alone, for use outside Koa (or in tests and benchmarks). */
  readonly tokens: TokenVerifier;
}

/**
 * `audience` is required by the type; plain-JavaScript callers get the same rule at start-up, so
 * a forgotten option fails loudly instead of accepting every audience.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const { audience } = options as { audience?: unknown };
  if (typeof audience !== 'string' || audience.trim() === '') throw new TypeError('createVerifier: `audience` (this service\'s identifier, which tokens must name in `aud`) is required');
  const tokens = options.mode === 'jwks' ? new JwksVerifier(options) : new IntrospectVerifier(options);
  const middleware = new VerifierMiddleware(tokens, options.realm ?? 'api');
  return Object.assign(middleware, { tokens });
}
