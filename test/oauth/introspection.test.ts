import request from 'supertest';
import type Koa from 'koa';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { setUserDisabled, setUserPassword } from '../../src/identity/user-lifecycle';
import { generateJwk } from '../../src/tokens/generate';
import { parseKeySet } from '../../src/tokens/keyring';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { storeKinds } from '../support/env';
import { basic, ISSUER, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

const BFF_SECRET = 'backend-for-frontend-secret-0123456789abcdef';

describe.each(storeKinds())('RFC 7662 introspection (%s store)', (store) => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let clock: FakeClock;

  const post = (path: string, form: Record<string, string>, authorization?: string) => {
    const req = request(app.callback()).post(path).type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const introspect = (token: string, extra: Record<string, string> = {}) => post('/oauth/introspect', { token, ...extra }, basic('rs', RS_SECRET));
  const login = async (username = 'alice', scope = 'items:read items:write') =>
    (await post('/oauth/token', { grant_type: 'password', client_id: 'spa', username, password: `${username}-password`, scope })).body as { access_token: string; refresh_token: string };

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture({}, { store }));
    clock = deps.clock as FakeClock;
    await createClient(deps.db, { id: 'bff', type: 'confidential', secret: BFF_SECRET, grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], canIntrospect: true }, new Date(clock.now()));
  });
  afterAll(async () => deps.cleanup());

  describe('§2.1 the caller', () => {
    it('must authenticate: none, a wrong secret or a public client is 401 invalid_client', async () => {
      const { access_token: token } = await login();
      const none = await post('/oauth/introspect', { token });
      expect(none.status).toBe(401);
      expect(none.body.error).toBe('invalid_client');
      // RFC 7235 §3.1: every 401 names the scheme that would do.
      expect(none.headers['www-authenticate']).toBe('Basic realm="portcullis"');
      const wrong = await post('/oauth/introspect', { token }, basic('rs', 'not-the-secret'));
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
      const publicClient = await post('/oauth/introspect', { token, client_id: 'spa' });
      expect(publicClient.status).toBe(401);
      expect(publicClient.body.error).toBe('invalid_client');
      expect(publicClient.headers['www-authenticate']).toBe('Basic realm="portcullis"');
    });

    it('must be allowed to introspect: an authenticated client without the permission is 403', async () => {
      const { access_token: token } = await login();
      const res = await post('/oauth/introspect', { token }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'unauthorized_client', error_description: 'this client may not introspect tokens' });
    });

    it('must send a token', async () => {
      const res = await post('/oauth/introspect', {}, basic('rs', RS_SECRET));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });
  });

  describe('§2.2 access tokens', () => {
    it('describes an active user token with every member, and is never cached', async () => {
      const { access_token: token } = await login();
      const res = await introspect(token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        active: true,
        scope: 'items:read items:write',
        client_id: 'spa',
        username: 'alice',
        token_type: 'Bearer',
        exp: expect.any(Number),
        iat: Math.floor(clock.now() / 1000),
        sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
        aud: 'https://api.example.test',
        iss: ISSUER,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(res.body.exp - res.body.iat).toBe(900);
    });

    it('describes a client_credentials token: the client is the subject, no username', async () => {
      const issued = await post('/oauth/token', { grant_type: 'client_credentials' }, basic('service', SERVICE_SECRET));
      const res = await introspect(issued.body.access_token);
      expect(res.body).toMatchObject({ active: true, sub: 'service', client_id: 'service', scope: 'items:read' });
      expect(res.body).not.toHaveProperty('username');
    });

    it('treats token_type_hint as a hint only', async () => {
      const { access_token: token } = await login();
      expect((await introspect(token, { token_type_hint: 'refresh_token' })).body.active).toBe(true);
      expect((await introspect(token, { token_type_hint: 'something_else' })).body.active).toBe(true);
    });

    it('answers exactly {"active": false} for garbage, with 200', async () => {
      const res = await introspect('not-a-token');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('is inactive once expired', async () => {
      const { access_token: token } = await login();
      clock.advanceSeconds(899);
      expect((await introspect(token)).body.active).toBe(true);
      clock.advanceSeconds(1);
      expect((await introspect(token)).body).toEqual({ active: false });
    });

    it('is inactive the moment the user is disabled, and stays so after re-enabling', async () => {
      const { access_token: token } = await login('mod', 'items:read');
      clock.advanceSeconds(1);
      await setUserDisabled(deps, 'mod', true);
      expect((await introspect(token)).body).toEqual({ active: false });
      await setUserDisabled(deps, 'mod', false);
      expect((await introspect(token)).body).toEqual({ active: false });
      clock.advanceSeconds(1);
      expect((await introspect((await login('mod', 'items:read')).access_token)).body.active).toBe(true);
    });

    it('is inactive the moment the password changes', async () => {
      const { access_token: token } = await login('mod', 'items:read');
      clock.advanceSeconds(1);
      await setUserPassword(deps, 'mod', 'mod-password');
      expect((await introspect(token)).body).toEqual({ active: false });
    });

    it('separates tokens issued just before and just after a password change, within one second', async () => {
      clock.advanceSeconds(1);
      const before = (await login('mod', 'items:read')).access_token;
      clock.advance(10);
      await setUserPassword(deps, 'mod', 'mod-password');
      clock.advance(10);
      const after = (await login('mod', 'items:read')).access_token;
      expect((await introspect(before)).body).toEqual({ active: false });
      const described = (await introspect(after)).body;
      expect(described.active).toBe(true);
      // The jti is a UUIDv7 carrying the issue time in ms: that is what the epoch is compared with.
      expect(described.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      expect(parseInt(described.jti.replace(/-/g, '').slice(0, 12), 16)).toBe(clock.now());
    });

    it("is inactive once its login's refresh-token family is revoked for theft", async () => {
      const first = await login();
      const rotated = await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.refresh_token });
      expect((await introspect(rotated.body.access_token)).body.active).toBe(true);
      clock.advanceSeconds(6);
      await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.refresh_token });
      expect((await introspect(first.access_token)).body).toEqual({ active: false });
      expect((await introspect(rotated.body.access_token)).body).toEqual({ active: false });
    });

    it('stops verifying a token as soon as its key leaves the key set (no stale cache)', async () => {
      const { access_token: token } = await login();
      expect((await introspect(token)).body.active).toBe(true);
      const original = deps.keyring.current;
      deps.keyring.replace(parseKeySet(JSON.stringify({ keys: [generateJwk('ES256', 'replacement', 'active')] })));
      try {
        expect((await introspect(token)).body).toEqual({ active: false });
      } finally {
        deps.keyring.replace(original);
      }
      expect((await introspect(token)).body.active).toBe(true);
    });
  });

  describe('§2.2 refresh tokens', () => {
    const bffLogin = async () =>
      (await post('/oauth/token', { grant_type: 'password', username: 'alice', password: 'alice-password', scope: 'items:read' }, basic('bff', BFF_SECRET))).body as { refresh_token: string };

    it('describes the current refresh token to the client it was issued to', async () => {
      const { refresh_token: token } = await bffLogin();
      const res = await post('/oauth/introspect', { token, token_type_hint: 'refresh_token' }, basic('bff', BFF_SECRET));
      expect(res.body).toEqual({
        active: true,
        scope: 'items:read',
        client_id: 'bff',
        username: 'alice',
        token_type: 'refresh_token',
        exp: Math.floor(clock.now() / 1000) + 7 * 86400,
        iat: Math.floor(clock.now() / 1000),
        sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
        aud: 'https://api.example.test',
        iss: ISSUER,
      });
    });

    it('is inactive for any other client, and once rotated', async () => {
      const { refresh_token: token } = await bffLogin();
      expect((await introspect(token)).body).toEqual({ active: false });
      await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: token }, basic('bff', BFF_SECRET));
      expect((await post('/oauth/introspect', { token }, basic('bff', BFF_SECRET))).body).toEqual({ active: false });
    });
  });

  describe('hot-path budget', () => {
    it('makes no database query and one token-store call per introspection', async () => {
      const calls: string[] = [];
      // Every store slice is counted, so a call to any of them shows up here.
      const counted = <T extends object>(store: T): T =>
        new Proxy(store, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver) as unknown;
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              calls.push(String(name));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      const countedApp = createApp({ ...deps, storage: counted(deps.storage), families: counted(deps.families), revocations: counted(deps.revocations) });
      const { access_token: token } = await login();
      const queries: string[] = [];
      const onQuery = (query: { sql: string }) => queries.push(query.sql);
      const call = () => request(countedApp.callback()).post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token });
      expect((await call()).body.active).toBe(true); // warms the client cache
      deps.db.on('query', onQuery);
      try {
        calls.length = 0;
        for (let i = 0; i < 5; i += 1) expect((await call()).body.active).toBe(true);
      } finally {
        deps.db.removeListener('query', onQuery);
      }
      expect(queries).toEqual([]);
      expect(calls).toEqual(Array(5).fill('revocationState'));
    });
  });
});
