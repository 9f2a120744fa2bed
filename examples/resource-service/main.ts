import { createVerifier, type VerifierOptions } from '@portcullis/verifier';
import { createItemsApp } from './app';
import { parseAllowedOrigins } from './cors';

// Configuration from the environment:
//   PORT (default 9090), PORTCULLIS_ISSUER (required), PORTCULLIS_URL (where to reach it, when
//   not at its issuer URL), AUDIENCE (required: this API's identifier, which tokens must name in
//   `aud` — the `resource` clients ask for, or Portcullis's DEFAULT_AUDIENCE),
//   VERIFIER_MODE=jwks|introspect (default jwks); for introspect: CLIENT_ID, CLIENT_SECRET,
//   VERIFIER_CACHE_TTL (seconds, default 0); ALLOWED_ORIGINS (comma-separated exact origins of
//   browser apps that may call this API, e.g. http://localhost:5173; default none: no CORS).
function options(env: NodeJS.ProcessEnv): VerifierOptions {
  const issuer = env.PORTCULLIS_ISSUER;
  if (!issuer) throw new Error('PORTCULLIS_ISSUER is required');
  const audience = env.AUDIENCE;
  if (!audience) throw new Error('AUDIENCE is required');
  const base = env.PORTCULLIS_URL || issuer;
  if (env.VERIFIER_MODE === 'introspect') {
    if (!env.CLIENT_ID || !env.CLIENT_SECRET) throw new Error('introspect mode needs CLIENT_ID and CLIENT_SECRET');
    return { mode: 'introspect', issuer, audience, introspectionEndpoint: `${base}/oauth/introspect`, clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, cacheTtlSec: Number(env.VERIFIER_CACHE_TTL ?? 0) };
  }
  return { mode: 'jwks', issuer, audience, jwksUri: `${base}/.well-known/jwks.json`, cooldownMs: Number(env.JWKS_COOLDOWN_MS ?? 30_000) };
}

const verifierOptions = options(process.env);
const allowedOrigins = parseAllowedOrigins(process.env.ALLOWED_ORIGINS);
const server = createItemsApp(createVerifier(verifierOptions), { allowedOrigins }).listen(Number(process.env.PORT ?? 9090), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'server.started', port, mode: verifierOptions.mode })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
