import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

// A stand-in authorization server for the adapter tests: one ES256 key, its JWKS served over real
// HTTP, and RFC 9068 access tokens signed with it. The tests against a real Portcullis are
// verifier.test.ts and the e2e tests; here the frameworks are what is under test.

export const AUDIENCE = 'https://items.adapters.test';

export interface LocalIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** An access token for AUDIENCE; `claims` replace the defaults (a user token of alice). */
  token(claims?: JWTPayload, options?: { typ?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    token: (claims = {}, { typ = 'at+jwt' } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const defaults = { iss: issuer, aud: AUDIENCE, sub: randomUUID(), client_id: 'spa', username: 'alice', scope: 'items:read', iat: now, exp: now + 120, jti: randomUUID() };
      return new SignJWT({ ...defaults, ...claims }).setProtectedHeader({ alg: 'ES256', typ, kid }).sign(privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
