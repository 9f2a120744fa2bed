import request from 'supertest';
import type Koa from 'koa';
import { loadConfig } from '../../src/config/config';
import type { Deps } from '../../src/deps';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createLogger } from '../../src/logging/logger';
import { buildDeps, closeDeps } from '../../src/main';
import { createTokenStores } from '../../src/store/create-store';
import { freePort, startRedis, type Backend } from '../support/backends';
import { tempDir } from '../support/env';
import { LogCapture } from '../support/logs';
import { PASSWORD, RS_SECRET, seedStoreService } from '../support/store-service';
import { basic } from '../support/oauth-fixture';
import { until } from '../support/process';

// Issue 11, item 13: with Redis unreachable, every endpoint that needs token state fails closed
// with 503, Retry-After and RFC 6749 temporarily_unavailable — not 500, and not a 401 or an
// inactive answer that a gateway or resource server would take as a verdict on the token.
// A real redis-server of this file's own, stopped and started again; the service is built by
// its composition root (buildDeps), as `portcullis serve` builds it.

const ISSUER = 'https://auth.example.test';


function expectUnavailable(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toMatch(/^[1-9]\d?$/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
}

describe('fail closed while Redis is unreachable', () => {
  let redis: Backend;
  let deps: Deps;
  let app: Koa<AppState>;
  let accessToken: string;
  let refreshToken: string;
  const logs = new LogCapture();

  const http = () => request(app.callback());
  const login = () => http().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'app', username: 'carol', password: PASSWORD, scope: 'items:read' });
  const introspect = (token: string) => http().post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token });
  const verify = () => http().get('/oauth/verify').set('Authorization', `Bearer ${accessToken}`);
  const storeReady = async () => (await http().get('/readyz')).body.checks.store.status === 'up';

  beforeAll(async () => {
    redis = await startRedis();
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', DATA_DIR: tempDir(), REDIS_URL: redis.url, ISSUER, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    deps = await buildDeps(config, { logDestination: logs });
    await seedStoreService(deps);
    app = createApp(deps);

    const res = await login();
    expect(res.status).toBe(200);
    ({ access_token: accessToken, refresh_token: refreshToken } = res.body as { access_token: string; refresh_token: string });
    expect((await introspect(accessToken)).body.active).toBe(true);
    expect((await verify()).status).toBe(204);

    await redis.stop();
    await until(async () => !(await storeReady()), 10_000, { what: 'the store to report the outage' });
  });

  afterAll(async () => {
    await closeDeps(deps);
    await redis.destroy();
  });

  it('RFC 7662 introspection of an access token answers 503, not 500 and not active', async () => {
    expectUnavailable(await introspect(accessToken));
  });

  it('RFC 7662 introspection of a refresh token answers 503', async () => {
    expectUnavailable(await introspect(refreshToken));
  });

  it('RFC 6750 forward-auth answers 503 without a challenge or identity headers', async () => {
    const res = await verify();
    expectUnavailable(res);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers['x-auth-subject']).toBeUndefined();
  });

  it('RFC 6749 §4.3 login (password grant) answers 503 temporarily_unavailable', async () => {
    const res = await login();
    expectUnavailable(res);
    expect(res.headers.pragma).toBe('no-cache');
  });

  it('RFC 6749 §6 refresh answers 503', async () => {
    expectUnavailable(await http().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'app', refresh_token: refreshToken }));
  });

  it('the account API answers 503 to a bearer call', async () => {
    expectUnavailable(await http().get('/users/me').set('Authorization', `Bearer ${accessToken}`));
  });

  it('logs the outage once (redis.unavailable, at error, with the reason), not a line or a stack per refused request', async () => {
    expectUnavailable(await verify());
    expectUnavailable(await verify());
    const lines = logs.events('redis.unavailable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', reason: expect.any(String) });
    expect(logs.events('store.unavailable')).toHaveLength(0);
    expect(logs.events('redis.error')).toHaveLength(0);
    expect(logs.events('http.unhandled_error')).toHaveLength(0);
    expect(logs.text()).not.toContain('"stack"');
    const text = logs.text();
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(refreshToken);
  });

  it('answers again once Redis is back', async () => {
    // This throwaway server keeps nothing across the restart (no persistence): the token issued
    // before counts as revoked (redis-data-loss.test.ts), and a new login works.
    await redis.start();
    await until(storeReady, 10_000, { what: 'the store to reconnect' });
    expect(logs.events('redis.recovered')).toEqual([expect.objectContaining({ downMs: expect.any(Number) })]);
    expect(logs.events('redis.unavailable')).toHaveLength(1);
    expect((await verify()).status).toBe(401);
    const res = await login();
    expect(res.status).toBe(200);
    accessToken = (res.body as { access_token: string }).access_token;
    expect((await verify()).status).toBe(204);
  });

  it('fails closed the same way when Redis was never reachable (a closed port at start)', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', DATA_DIR: tempDir(), REDIS_URL: `redis://127.0.0.1:${await freePort()}`, ISSUER });
    const stores = await createTokenStores(config, createLogger('silent'));
    try {
      const unreachable = createApp({ ...deps, ...stores });
      const res = await request(unreachable.callback()).get('/oauth/verify').set('Authorization', `Bearer ${accessToken}`);
      expectUnavailable(res);
      expect(res.headers['www-authenticate']).toBeUndefined();
    } finally {
      await stores.storage.close();
    }
  });
});
