// The same resource service as CommonJS (require), from the same scratch project.
const { createVerifier } = require('@portcullis/verifier');
const express = require('@portcullis/verifier/express');
const fastify = require('@portcullis/verifier/fastify');

const { ISSUER, AUDIENCE, BASE, CLIENT_ID, CLIENT_SECRET, TOKEN, FORGED } = process.env;
const modes = {
  jwks: { mode: 'jwks', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${BASE}/.well-known/jwks.json` },
  introspect: { mode: 'introspect', issuer: ISSUER, audience: AUDIENCE, introspectionEndpoint: `${BASE}/oauth/introspect`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
};
const outcome = (result) => (result.ok ? { ok: true, sub: result.auth.sub, subjectType: result.auth.subjectType } : { ok: false, status: result.status, error: result.error });
const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

async function main() {
  // express and fastify are not installed here: their adapters load without them.
  const seen = { resolved: require.resolve('@portcullis/verifier'), adapters: [typeof express.createVerifier, typeof fastify.createVerifier] };
  for (const [name, options] of Object.entries(modes)) {
    const auth = createVerifier(options);
    seen[name] = { token: outcome(await auth.verify(bearer(TOKEN), { scopes: ['items:read'] })), forged: outcome(await auth.verify(bearer(FORGED), { scopes: ['items:read'] })) };
  }
  process.stdout.write(`${JSON.stringify(seen)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
