import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import type { TestDeps } from '../support/deps';
import { ISSUER, oauthFixture } from '../support/oauth-fixture';

const APP = 'https://app.example.test';

describe('CORS for first-party browser apps', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture());
    await createClient(deps.db, { id: 'browser-spa', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], corsOrigins: [APP], audiences: [ISSUER] }, new Date(deps.clock.now()));
  });
  afterAll(async () => deps.cleanup());

  const preflight = (path: string, origin: string, method = 'POST') =>
    request(app.callback()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method).set('Access-Control-Request-Headers', 'content-type,authorization');

  it("answers a preflight from a client's registered origin", async () => {
    const res = await preflight('/oauth/token', APP);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/authorization/i);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toMatch(/origin/i);
  });

  it('lets the browser read a token response and an error, from that origin only', async () => {
    // A token for this service's own account API (aud = issuer).
    const ok = await request(app.callback()).post('/oauth/token').set('Origin', APP).type('form').send({ grant_type: 'password', client_id: 'browser-spa', username: 'alice', password: 'alice-password', resource: ISSUER });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(APP);
    const error = await request(app.callback()).post('/oauth/token').set('Origin', APP).type('form').send({ grant_type: 'password', client_id: 'browser-spa', username: 'alice', password: 'wrong' });
    expect(error.status).toBe(400);
    expect(error.headers['access-control-allow-origin']).toBe(APP);
    const me = await request(app.callback()).get('/users/me').set('Origin', APP).set('Authorization', `Bearer ${ok.body.access_token}`);
    expect(me.status).toBe(200);
    expect(me.headers['access-control-allow-origin']).toBe(APP);
  });

  it('gives no CORS headers to an origin no client is registered with', async () => {
    const res = await preflight('/oauth/token', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const post = await request(app.callback()).post('/oauth/token').set('Origin', 'https://evil.example').type('form').send({ grant_type: 'client_credentials' });
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps server-to-server endpoints out of CORS, even for a registered origin', async () => {
    for (const path of ['/oauth/introspect', '/oauth/verify']) {
      expect((await preflight(path, APP)).headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
