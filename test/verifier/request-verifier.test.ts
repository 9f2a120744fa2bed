import { createRequestVerifier, requestVerifier, type RequestVerifier } from '@portcullis/verifier/core';
import { AUDIENCE, startLocalIssuer, type LocalIssuer } from './support/local-issuer';

// The framework-free core, `verify(request)`: headers in, the caller or an RFC 6750 refusal out.

describe('@portcullis/verifier/core verify(request)', () => {
  let issuer: LocalIssuer;
  let auth: RequestVerifier;
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    issuer = await startLocalIssuer();
    auth = createRequestVerifier({ mode: 'jwks', issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri });
  });
  afterAll(() => issuer.close());

  it('reads the token from Node headers, a record in any case, or a Fetch Headers', async () => {
    const token = await issuer.token({ sub: 'user-1' });
    for (const headers of [{ authorization: `Bearer ${token}` }, { Authorization: `Bearer ${token}` }, new Headers({ Authorization: `Bearer ${token}` })]) {
      const result = await auth.verify({ headers }, { scopes: ['items:read'] });
      expect(result).toMatchObject({ ok: true, auth: { sub: 'user-1', subjectType: 'user', username: 'alice', clientId: 'spa', scopes: ['items:read'] } });
    }
  });

  it("tells a client's own token from a user's by the server's rule", async () => {
    const result = await auth.verify(bearer(await issuer.token({ sub: 'svc', client_id: 'svc', username: undefined })));
    expect(result.ok && result.auth.subjectType).toBe('client');
  });

  it('RFC 6750 §3.1: no token is 401 with a bare challenge, or anonymous when optional', async () => {
    expect(await auth.verify({ headers: {} })).toEqual({
      ok: false,
      status: 401,
      error: 'invalid_token',
      description: 'a bearer token is required',
      wwwAuthenticate: 'Bearer realm="api"',
      headers: { 'WWW-Authenticate': 'Bearer realm="api"' },
      body: { error: 'invalid_token', error_description: 'a bearer token is required' },
    });
    expect(await auth.verify({ headers: {} }, { optional: true })).toEqual({ ok: true, auth: undefined });
  });

  it.each([
    ['another scheme', { authorization: 'Basic YTpi' }],
    ['two Authorization headers', { authorization: ['Bearer a', 'Bearer b'] }],
  ])('refuses %s as a malformed header, also when optional', async (_name, headers) => {
    for (const requirement of [{}, { optional: true }]) {
      const result = await auth.verify({ headers }, requirement);
      expect(result).toMatchObject({ ok: false, status: 401, error: 'invalid_token', wwwAuthenticate: 'Bearer realm="api", error="invalid_token", error_description="malformed Authorization header"' });
    }
  });

  it.each([
    ['garbage', async () => 'garbage'],
    ['another audience', async () => issuer.token({ aud: 'https://other.test' })],
    ['another typ (RFC 9068 §4)', async () => issuer.token({}, { typ: 'JWT' })],
    ['expired', async () => issuer.token({ exp: Math.floor(Date.now() / 1000) - 60 })],
  ])('refuses %s with 401 invalid_token and a challenge naming the error', async (_name, make) => {
    const result = await auth.verify(bearer(await make()));
    expect(result).toMatchObject({ ok: false, status: 401, error: 'invalid_token' });
    expect(!result.ok && result.headers['WWW-Authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
  });

  it("matches scopes with the server's matcher, and answers 403 insufficient_scope naming them", async () => {
    expect((await auth.verify(bearer(await issuer.token({ scope: 'items:*' })), { scopes: ['items:read', 'items:write'] })).ok).toBe(true);
    expect((await auth.verify(bearer(await issuer.token({ scope: 'admin' })), { scopes: ['billing:read'] })).ok).toBe(true);
    const result = await auth.verify(bearer(await issuer.token({ scope: 'items:read' })), { scopes: ['items:write'] });
    expect(result).toMatchObject({ ok: false, status: 403, error: 'insufficient_scope', wwwAuthenticate: 'Bearer realm="api", error="insufficient_scope", scope="items:write"' });
  });

  it('throws a TypeError for a required scope outside the grammar', async () => {
    await expect(auth.verify(bearer(await issuer.token()), { scopes: ['items:read,items:write'] })).rejects.toThrow(TypeError);
  });

  it('answers 503 with Retry-After and no challenge when the token cannot be checked', async () => {
    const down = createRequestVerifier({ mode: 'jwks', issuer: issuer.issuer, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' });
    const result = await down.verify(bearer(await issuer.token()));
    expect(result).toMatchObject({ ok: false, status: 503, error: 'temporarily_unavailable', wwwAuthenticate: undefined, headers: { 'Retry-After': '1' } });
  });

  it('runs over any token check, with its own realm', async () => {
    const custom = requestVerifier({ verify: async () => undefined }, 'items');
    expect(await custom.verify(bearer('anything'))).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer realm="items", error="invalid_token", error_description="the token is invalid, expired or revoked"' });
  });
});
