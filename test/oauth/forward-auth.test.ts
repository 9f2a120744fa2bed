import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { registerUser } from '../../src/identity/user-lifecycle';
import { signJws } from '../../src/tokens/jws';
import type { TestDeps } from '../support/deps';
import { basic, ISSUER, oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';

// The fixture's DEFAULT_AUDIENCE, and another audience the `spa` client may ask for (RFC 8707).
const API = 'https://api.example.test';
const ITEMS = 'https://items.example.test';

describe('forward-auth /oauth/verify', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let token: string;

  const verify = (authorization?: string, query = '', method: 'get' | 'post' | 'head' = 'get') => {
    const req = request(app.callback())[method](`/oauth/verify${query}`);
    if (authorization !== undefined) req.set('Authorization', authorization);
    return req;
  };
  const login = async (username: string, password: string, scope: string) =>
    (await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username, password, scope })).body.access_token as string;

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture());
    token = await login('alice', 'alice-password', 'items:read items:write');
  });
  afterAll(async () => deps.cleanup());

  it('answers 204 with the identity headers for a valid token', async () => {
    const res = await verify(`Bearer ${token}`);
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-auth-subject']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-auth-username']).toBe('alice');
    expect(res.headers['x-auth-scopes']).toBe('items:read items:write');
    expect(res.headers['x-auth-client-id']).toBe('spa');
    expect(res.headers['x-auth-subject-type']).toBe('user');
    expect(res.headers['x-auth-audience']).toBe(API);
  });

  it('answers the methods gateways forward, not only GET', async () => {
    expect((await verify(`Bearer ${token}`, '', 'post')).status).toBe(204);
    expect((await verify(`Bearer ${token}`, '', 'head')).status).toBe(204);
  });

  it('accepts the scheme in any case (RFC 6750 §2.1)', async () => {
    expect((await verify(`bearer ${token}`)).status).toBe(204);
  });

  it('requires the scopes named in ?scope=, with the scope matcher', async () => {
    expect((await verify(`Bearer ${token}`, '?scope=items:read')).status).toBe(204);
    expect((await verify(`Bearer ${token}`, '?scope=items:read%20items:write')).status).toBe(204);
    const res = await verify(`Bearer ${token}`, '?scope=items:delete');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="insufficient_scope", scope="items:delete"');
  });

  it('lets a wildcard scope satisfy a specific one', async () => {
    const service = (await request(app.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials', scope: 'reports:*' })).body.access_token as string;
    const res = await verify(`Bearer ${service}`, '?scope=reports:read:own');
    expect(res.status).toBe(204);
    expect(res.headers['x-auth-subject']).toBe('service');
    expect(res.headers).not.toHaveProperty('x-auth-username');
  });

  describe('X-Auth-Subject-Type', () => {
    it('is user for a password-grant token', async () => {
      const res = await verify(`Bearer ${await login('alice', 'alice-password', 'items:read')}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-subject-type']).toBe('user');
    });

    it('is client for a client_credentials token', async () => {
      const service = (await request(app.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' })).body.access_token as string;
      const res = await verify(`Bearer ${service}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-subject-type']).toBe('client');
    });
  });

  describe('?audience= (RFC 7519 §4.1.3)', () => {
    const now = () => Math.floor(deps.clock.now() / 1000);
    // What the server would issue, with an `aud` array it never writes itself: for the array case.
    const signedFor = (aud: string | string[]) =>
      signJws(deps.keyring.current.active, { typ: 'at+jwt' }, { iss: ISSUER, sub: 'service', aud, client_id: 'service', scope: 'items:read', iat: now(), exp: now() + 60, jti: randomUUID() });

    it('answers 204 when the token\'s aud is the audience asked for', async () => {
      const res = await verify(`Bearer ${token}`, `?audience=${encodeURIComponent(API)}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-audience']).toBe(API);
    });

    it('reads the audience unencoded in the query, as gateway configurations write it', async () => {
      expect((await verify(`Bearer ${token}`, `?audience=${API}&scope=items:read`)).status).toBe(204);
      expect((await verify(`Bearer ${token}`, `?audience=${ITEMS}&scope=items:read`)).status).toBe(403);
    });

    it('answers 403 invalid_token with a challenge when aud does not contain it', async () => {
      const res = await verify(`Bearer ${token}`, `?audience=${encodeURIComponent(ITEMS)}`);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the token is not for this audience' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token", error_description="the token is not for this audience"');
      expect(res.headers).not.toHaveProperty('x-auth-subject');
    });

    it('compares exactly: no prefix, trailing slash or case match', async () => {
      for (const near of [`${API}/`, 'https://api.example', API.toUpperCase(), `${API}/items`]) {
        expect((await verify(`Bearer ${token}`, `?audience=${encodeURIComponent(near)}`)).status).toBe(403);
      }
    });

    it('checks the audience before the scopes: another service\'s token is refused as such', async () => {
      const res = await verify(`Bearer ${token}`, `?audience=${encodeURIComponent(ITEMS)}&scope=items:delete`);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('invalid_token');
    });

    it('follows the resource a token was issued for (RFC 8707)', async () => {
      const items = (await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read', resource: ITEMS })).body.access_token as string;
      const res = await verify(`Bearer ${items}`, `?audience=${encodeURIComponent(ITEMS)}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-audience']).toBe(ITEMS);
      expect((await verify(`Bearer ${items}`, `?audience=${encodeURIComponent(API)}`)).status).toBe(403);
    });

    it('accepts an aud array that contains it, and lists every audience space-separated', async () => {
      const both = signedFor([ITEMS, API]);
      const res = await verify(`Bearer ${both}`, `?audience=${encodeURIComponent(API)}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-audience']).toBe(`${ITEMS} ${API}`);
      expect((await verify(`Bearer ${both}`, `?audience=${encodeURIComponent(ITEMS)}`)).status).toBe(204);
      expect((await verify(`Bearer ${signedFor([ITEMS, 'https://other.example.test'])}`, `?audience=${encodeURIComponent(API)}`)).status).toBe(403);
    });

    it('checks no audience when none is asked for', async () => {
      const res = await verify(`Bearer ${signedFor('https://other.example.test')}`);
      expect(res.status).toBe(204);
      expect(res.headers['x-auth-audience']).toBe('https://other.example.test');
    });

    it.each([
      ['given twice', `?audience=${encodeURIComponent(API)}&audience=${encodeURIComponent(API)}`],
      ['given twice, differently', `?audience=${encodeURIComponent(API)}&audience=${encodeURIComponent(ITEMS)}`],
      ['empty', '?audience='],
      ['with a space', `?audience=${encodeURIComponent(`${API} ${ITEMS}`)}`],
      ['with a control character', `?audience=${encodeURIComponent(`${API}\n`)}`],
      ['not ASCII', `?audience=${encodeURIComponent('https://äpi.example.test')}`],
    ])('answers 400 invalid_request for an audience %s', async (_name, query) => {
      const res = await verify(`Bearer ${token}`, query);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });
  });

  it('answers 401 with a bare challenge when no token is sent (RFC 6750 §3.1)', async () => {
    const res = await verify();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
  });

  it.each([
    ['another scheme', 'Basic YTpi'],
    ['an empty bearer', 'Bearer '],
    ['two tokens', 'Bearer a b'],
    ['garbage', 'Bearer not-a-token'],
  ])('answers 401 invalid_token for %s', async (_name, authorization) => {
    const res = await verify(authorization);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="portcullis", error="invalid_token"/);
  });

  it('refuses a malformed or repeated scope parameter', async () => {
    expect((await verify(`Bearer ${token}`, '?scope=items%22read')).status).toBe(400);
    expect((await verify(`Bearer ${token}`, '?scope=a&scope=b')).status).toBe(400);
  });

  it('percent-encodes a username that is not plain ASCII', async () => {
    await registerUser(deps, { username: 'Jürgen名', password: 'jurgen-password', scopes: ['items:read'] });
    const res = await verify(`Bearer ${await login('jürgen名', 'jurgen-password', 'items:read')}`);
    expect(res.status).toBe(204);
    expect(res.headers['x-auth-username']).toBe(encodeURIComponent('Jürgen名'));
  });
});
