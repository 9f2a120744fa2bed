import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type Koa from 'koa';
import { createItemsApp } from '../../examples/resource-service/app';
import { systemClock } from '../../src/clock';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import { signJws } from '../../src/tokens/jws';
import { generateJwk } from '../../src/tokens/generate';
import { parseKeySet } from '../../src/tokens/keyring';
import { createVerifier, type AuthState, type VerifierOptions } from '../../src/verifier';
import type { TestDeps } from '../support/deps';
import { forge } from '../support/forge';
import { basic, ISSUER, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

// The verifier as a resource service uses it: the example items API in front, a running
// Portcullis behind (over real HTTP, for its JWKS and its introspection endpoint).

const AUDIENCE = 'https://api.example.test';
/** Another service the `spa` client may ask tokens for (RFC 8707 `resource`). */
const OTHER_AUDIENCE = 'https://items.example.test';

describe('portcullis/verifier', () => {
  let deps: TestDeps;
  let server: Server;
  let base: string;
  let auth: Koa<AppState>;

  const items = (options: Partial<VerifierOptions> & Pick<VerifierOptions, 'mode'>) =>
    createItemsApp(
      createVerifier(
        options.mode === 'jwks'
          ? { issuer: ISSUER, audience: AUDIENCE, jwksUri: `${base}/.well-known/jwks.json`, cooldownMs: 0, ...options, mode: 'jwks' }
          : { issuer: ISSUER, audience: AUDIENCE, introspectionEndpoint: `${base}/oauth/introspect`, clientId: 'rs', clientSecret: RS_SECRET, ...(options as object), mode: 'introspect' },
      ),
    );
  const login = async (scope = 'items:read items:write', username = 'alice', clientId = 'spa') =>
    (await request(auth.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: clientId, username, password: `${username}-password`, scope })).body as { access_token: string; refresh_token: string };
  const get = (app: Koa<AuthState>, path: string, token?: string) => {
    const req = request(app.callback()).get(path);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };
  const introspections = () => deps.logs.events('http.request').filter((line) => line.url === '/oauth/introspect').length;

  beforeAll(async () => {
    // Real time: the verifier checks exp against the wall clock, as a resource service does.
    ({ deps, app: auth } = await oauthFixture({}, { clock: systemClock }));
    await registerUser(deps, { username: 'root', password: 'root-password', roles: ['superuser'] });
    await createClient(deps.db, { id: 'console', type: 'public', grantTypes: ['password'], scopes: ['admin'] }, new Date());
    server = createServer(auth.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await deps.cleanup();
  });

  describe.each(['jwks', 'introspect'] as const)('%s mode', (mode) => {
    let app: Koa<AuthState>;
    beforeAll(() => {
      app = items({ mode });
    });

    it('lets a token with the scope through and puts the caller on ctx.state.auth', async () => {
      const { access_token: token } = await login();
      expect((await get(app, '/items', token)).status).toBe(200);
      const created = await request(app.callback()).post('/items').set('Authorization', `Bearer ${token}`).send({ name: 'pen' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'pen', owner: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    });

    it('answers 401 with a bare challenge when no token is sent', async () => {
      const res = await get(app, '/items');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('answers 403 insufficient_scope naming the scope', async () => {
      const { access_token: token } = await login('items:read');
      const res = await request(app.callback()).post('/items').set('Authorization', `Bearer ${token}`).send({ name: 'x' });
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope", scope="items:write"');
      expect((await get(app, '/admin/dashboard', token)).status).toBe(403);
    });

    it('lets admin (a scope that grants everything) into the admin dashboard', async () => {
      const { access_token: token } = await login('admin', 'root', 'console');
      const res = await get(app, '/admin/dashboard', token);
      expect(res.status).toBe(200);
      expect(res.body.viewer).toBe('root');
    });

    it('personalises the public list when a token is present, and serves guests without one', async () => {
      const { access_token: token } = await login('items:read');
      expect((await get(app, '/items/public')).body.greeting).toBe('hello, guest');
      expect((await get(app, '/items/public', token)).body.greeting).toBe('hello, alice');
      expect((await get(app, '/items/public', 'not-a-token')).status).toBe(401);
    });

    it.each([
      ['garbage', () => 'garbage'],
      ['alg none', () => forge({ typ: 'at+jwt', kid: deps.keyring.current.active.kid }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: AUDIENCE, exp: 9999999999, iat: 1, jti: 'j' }, { alg: 'none' })],
      ['HS256 keyed with the public key', () => forge({ typ: 'at+jwt', kid: deps.keyring.current.active.kid }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: AUDIENCE, scope: 'items:read', exp: 9999999999, iat: 1, jti: 'j' }, { alg: 'HS256', secret: deps.keyring.current.active.verifyKey.export({ type: 'spki', format: 'pem' }) })],
      ['wrong typ', () => signJws(deps.keyring.current.active, { typ: 'JWT' }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: AUDIENCE, scope: 'items:read', exp: Math.floor(Date.now() / 1000) + 60, iat: Math.floor(Date.now() / 1000), jti: 'j' })],
      ['expired', () => signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: AUDIENCE, scope: 'items:read', exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 120, jti: 'j' })],
      ['not yet valid', () => signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: AUDIENCE, scope: 'items:read', nbf: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900, iat: Math.floor(Date.now() / 1000), jti: 'j' })],
      ['another issuer', () => signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { sub: 'x', client_id: 'spa', iss: 'https://evil.example', aud: AUDIENCE, scope: 'items:read', exp: Math.floor(Date.now() / 1000) + 60, iat: Math.floor(Date.now() / 1000), jti: 'j' })],
      ['another audience', () => signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud: 'https://other.example', scope: 'items:read', exp: Math.floor(Date.now() / 1000) + 60, iat: Math.floor(Date.now() / 1000), jti: 'j' })],
      ['truncated', () => 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0'],
      ['huge', () => `eyJhbGciOiJFUzI1NiJ9.${'A'.repeat(10_000)}.c2ln`],
    ])('refuses %s with 401, never a 5xx', async (_name, make) => {
      const res = await get(app, '/items', make());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    it('refuses a refresh token used as a bearer token', async () => {
      const { refresh_token: token } = await login();
      expect((await get(app, '/items', token)).status).toBe(401);
    });

    describe('RFC 7519 §4.1.3 audience', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const signedFor = (aud: string | string[]) =>
        signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { sub: 'x', client_id: 'spa', iss: ISSUER, aud, scope: 'items:read', exp: now() + 60, iat: now(), jti: randomUUID() });

      it('refuses, with 401 invalid_token, a live token the server issued for another audience', async () => {
        const issued = await request(auth.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read', resource: OTHER_AUDIENCE });
        expect(issued.status).toBe(200);
        const res = await get(app, '/items', issued.body.access_token as string);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      });

      it('accepts a token whose aud array names this service, and refuses one whose array does not', async () => {
        expect((await get(app, '/items', signedFor([OTHER_AUDIENCE, AUDIENCE]))).status).toBe(200);
        expect((await get(app, '/items', signedFor([OTHER_AUDIENCE, `${AUDIENCE}/`]))).status).toBe(401);
      });

      it('accepts the token meant for the audience it was built with', async () => {
        const other = items({ mode, audience: OTHER_AUDIENCE });
        const issued = await request(auth.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read', resource: OTHER_AUDIENCE });
        expect((await get(other, '/items', issued.body.access_token as string)).status).toBe(200);
        expect((await get(other, '/items', (await login()).access_token)).status).toBe(401);
      });
    });

    it('tells a user token (password grant) from a client token (client_credentials) on ctx.state.auth', async () => {
      const user = await get(app, '/whoami', (await login('items:read')).access_token);
      expect(user.status).toBe(200);
      expect(user.body).toMatchObject({ subjectType: 'user', username: 'alice', clientId: 'spa' });
      const issued = await request(auth.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' });
      const client = await get(app, '/whoami', issued.body.access_token as string);
      expect(client.status).toBe(200);
      expect(client.body).toEqual({ sub: 'service', subjectType: 'client', username: null, clientId: 'service' });
    });
  });

  describe('audience is required in both modes', () => {
    const introspect = { mode: 'introspect', issuer: ISSUER, clientId: 'rs', clientSecret: RS_SECRET } as const;
    const jwks = { mode: 'jwks', issuer: ISSUER } as const;

    it('is a required option of the type', () => {
      // @ts-expect-error audience is missing
      expect(() => createVerifier(jwks)).toThrow(TypeError);
      // @ts-expect-error audience is missing
      expect(() => createVerifier(introspect)).toThrow(TypeError);
    });

    it.each([
      ['jwks, no audience', { ...jwks }],
      ['jwks, an empty audience', { ...jwks, audience: '' }],
      ['jwks, audience undefined', { ...jwks, audience: undefined }],
      ['introspect, no audience', { ...introspect }],
      ['introspect, an empty audience', { ...introspect, audience: '' }],
      ['introspect, a blank audience', { ...introspect, audience: '  ' }],
    ])('throws a TypeError at construction for a JavaScript caller: %s', (_name, options) => {
      expect(() => createVerifier(options as unknown as VerifierOptions)).toThrow(/audience/);
      expect(() => createVerifier(options as unknown as VerifierOptions)).toThrow(TypeError);
    });
  });

  describe('jwks mode', () => {
    it('follows a key rotation: a token signed by a new key verifies after one refetch', async () => {
      const app = items({ mode: 'jwks' });
      expect((await get(app, '/items', (await login()).access_token)).status).toBe(200);
      const original = deps.keyring.current;
      const next = generateJwk('ES256', `rotated-${Date.now()}`, 'active');
      const old = { ...(original.jwks.keys[0] as object), state: 'retired' };
      deps.keyring.replace(parseKeySet(JSON.stringify({ keys: [next, old] })));
      try {
        const fresh = (await login()).access_token;
        expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(next.kid);
        expect((await get(app, '/items', fresh)).status).toBe(200);
      } finally {
        deps.keyring.replace(original);
      }
    });

    it('answers 503, not 401, when the JWKS cannot be fetched', async () => {
      const app = createItemsApp(createVerifier({ mode: 'jwks', issuer: ISSUER, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/.well-known/jwks.json' }));
      const res = await get(app, '/items', (await login()).access_token);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
    });
  });

  describe('introspect mode', () => {
    it('refuses a revoked token at once', async () => {
      const app = items({ mode: 'introspect' });
      const { access_token: token } = await login();
      expect((await get(app, '/items', token)).status).toBe(200);
      await request(auth.callback()).post('/oauth/revoke').type('form').send({ token, client_id: 'spa' });
      expect((await get(app, '/items', token)).status).toBe(401);
    });

    it('makes one introspection call for a burst of requests with one token (singleflight)', async () => {
      const app = items({ mode: 'introspect' });
      const { access_token: token } = await login();
      const before = introspections();
      const replies = await Promise.all(Array.from({ length: 20 }, () => get(app, '/items', token)));
      expect(replies.every((res) => res.status === 200)).toBe(true);
      expect(introspections() - before).toBe(1);
    });

    it('with a positive cache, reuses an answer for at most cacheTtlSec', async () => {
      // Long enough that a loaded machine still revokes and asks again within it.
      const app = items({ mode: 'introspect', cacheTtlSec: 3 });
      const { access_token: token } = await login();
      expect((await get(app, '/items', token)).status).toBe(200);
      const cachedAt = Date.now();
      const before = introspections();
      await request(auth.callback()).post('/oauth/revoke').type('form').send({ token, client_id: 'spa' });
      // Inside the TTL the cached answer stands: the documented trade-off of a positive cache.
      expect((await get(app, '/items', token)).status).toBe(200);
      expect(introspections()).toBe(before);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cachedAt + 3100 - Date.now())));
      expect((await get(app, '/items', token)).status).toBe(401);
    });

    it('answers 503 when the authorization server cannot be reached, and 503 on bad credentials', async () => {
      const down = createItemsApp(createVerifier({ mode: 'introspect', issuer: ISSUER, audience: AUDIENCE, introspectionEndpoint: 'http://127.0.0.1:9/oauth/introspect', clientId: 'rs', clientSecret: RS_SECRET }));
      expect((await get(down, '/items', (await login()).access_token)).status).toBe(503);
      const misconfigured = items({ mode: 'introspect', clientSecret: 'wrong' });
      expect((await get(misconfigured, '/items', (await login()).access_token)).status).toBe(503);
    });
  });
});
