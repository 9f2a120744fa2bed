import type { JwksModeOptions } from '@portcullis/verifier';
import { createVerifier as expressVerifier } from '@portcullis/verifier/express';
import { createVerifier as fastifyVerifier } from '@portcullis/verifier/fastify';
import { createVerifier as nodeVerifier } from '@portcullis/verifier/node';
import { createVerifier as koaVerifier } from '@portcullis/verifier';
import { startExpress, startFastify, startKoa, startNodeHttp, type RunningApp, type StartApp } from './support/adapter-apps';
import { AUDIENCE, startLocalIssuer, type LocalIssuer } from './support/local-issuer';

// Each adapter in its real framework, over real HTTP: the same RFC 6750 behaviour everywhere.

const adapters: Array<[string, StartApp, (options: JwksModeOptions) => { requireScopes(...scopes: string[]): unknown }]> = [
  ['Express', startExpress, expressVerifier],
  ['Fastify', startFastify, fastifyVerifier],
  ['node:http', startNodeHttp, nodeVerifier],
  ['Koa', startKoa, koaVerifier],
];

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startLocalIssuer();
});
afterAll(() => issuer.close());

describe.each(adapters)('the %s adapter', (_name, start, create) => {
  let app: RunningApp;
  const options = (): JwksModeOptions => ({ mode: 'jwks', issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri });
  const get = (path: string, token?: string, base = app.url) => fetch(`${base}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    app = await start(options());
  });
  afterAll(() => app.close());

  it('lets a token with the scope through and hands the handler the caller', async () => {
    const res = await get('/items', await issuer.token({ sub: 'user-7' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'user-7', subjectType: 'user' });
    const client = await get('/whoami', await issuer.token({ sub: 'svc', client_id: 'svc', username: undefined, scope: '' }));
    expect(await client.json()).toEqual({ sub: 'svc', subjectType: 'client' });
  });

  it('RFC 6750 §3.1: no token is 401 with a bare challenge and a JSON body', async () => {
    const res = await get('/items');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'a bearer token is required' });
  });

  it('refuses an invalid token with 401 invalid_token', async () => {
    const res = await get('/whoami', await issuer.token({ aud: 'https://other.test' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('answers 403 insufficient_scope naming the scope', async () => {
    const res = await get('/items', await issuer.token({ scope: 'items:write' }));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api", error="insufficient_scope", scope="items:read"');
    expect(((await res.json()) as { error: string }).error).toBe('insufficient_scope');
  });

  it('optional: serves a guest, greets a caller, and still refuses a bad token', async () => {
    expect(await (await get('/public')).json()).toEqual({ greeting: 'hello, guest' });
    expect(await (await get('/public', await issuer.token())).json()).toEqual({ greeting: 'hello, alice' });
    expect((await get('/public', 'not-a-token')).status).toBe(401);
  });

  it('answers 503 with Retry-After, never 401, when the JWKS cannot be fetched', async () => {
    const down = await start({ ...options(), jwksUri: 'http://127.0.0.1:9/jwks.json' });
    try {
      const res = await get('/items', await issuer.token(), down.url);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
    } finally {
      await down.close();
    }
  });

  it('refuses a required scope outside the grammar when the route is declared', () => {
    expect(() => create(options()).requireScopes('items:read,items:write')).toThrow(TypeError);
  });
});
