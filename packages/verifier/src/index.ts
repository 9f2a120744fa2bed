// @portcullis/verifier — accept Portcullis access tokens in a Koa resource service. The same
// check without Koa: '@portcullis/verifier/core', '/express', '/fastify' and '/node'.
//
//   const auth = createVerifier({ mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   router.get('/items', auth.requireScopes('items:read'), (ctx) => { ctx.state.auth.sub ... });
import { createRequestVerifier, type RequestVerifier, type VerifierOptions } from './core.js';
import { koaGuards, type KoaGuards } from './koa.js';

export * from './core.js';
export type { AuthState, KoaGuards } from './koa.js';
export { koaGuards } from './koa.js';

/** Koa middleware (`authenticate`, `requireScopes`, `optional`), plus `verify` and `tokens`. */
export interface Verifier extends KoaGuards, RequestVerifier {}

export function createVerifier(options: VerifierOptions): Verifier {
  const requests = createRequestVerifier(options);
  return { ...koaGuards(requests), ...requests };
}
