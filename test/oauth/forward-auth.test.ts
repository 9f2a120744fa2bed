import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { registerUser } from '../../src/identity/user-lifecycle';
import type { TestDeps } from '../support/deps';
import { basic, oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';

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
