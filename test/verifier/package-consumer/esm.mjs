// A resource service written as an ES module, run from a scratch project that installed the packed
// @portcullis/verifier (test/e2e/verifier-package.test.ts). Prints one JSON line of what it saw.
import http from 'node:http';
import { createVerifier } from '@portcullis/verifier';
import { createVerifier as nodeVerifier } from '@portcullis/verifier/node';

const { ISSUER, AUDIENCE, BASE, CLIENT_ID, CLIENT_SECRET, TOKEN, FORGED } = process.env;
const modes = {
  jwks: { mode: 'jwks', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${BASE}/.well-known/jwks.json` },
  introspect: { mode: 'introspect', issuer: ISSUER, audience: AUDIENCE, introspectionEndpoint: `${BASE}/oauth/introspect`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
};
const outcome = (result) => (result.ok ? { ok: true, sub: result.auth.sub, subjectType: result.auth.subjectType } : { ok: false, status: result.status, error: result.error });
const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

const seen = { resolved: import.meta.resolve('@portcullis/verifier') };
for (const [name, options] of Object.entries(modes)) {
  const auth = createVerifier(options);
  seen[name] = { token: outcome(await auth.verify(bearer(TOKEN), { scopes: ['items:read'] })), forged: outcome(await auth.verify(bearer(FORGED), { scopes: ['items:read'] })) };
}

// The node:http adapter, over real HTTP.
const readItems = nodeVerifier(modes.jwks).requireScopes('items:read');
const server = http.createServer(async (req, res) => {
  const result = await readItems(req, res);
  if (result.ok) res.end(result.auth.sub);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/items`;
const served = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
const refused = await fetch(url, { headers: { authorization: `Bearer ${FORGED}` } });
seen.http = { token: [served.status, await served.text()], forged: [refused.status, refused.headers.get('www-authenticate')] };
server.close();

process.stdout.write(`${JSON.stringify(seen)}\n`);
