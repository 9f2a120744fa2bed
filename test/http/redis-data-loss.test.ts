import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { createRequestVerifier, type RequestVerifier } from '@portcullis/verifier/core';
import type Koa from 'koa';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config';
import type { Deps } from '../../src/deps';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { buildDeps, closeDeps } from '../../src/main';
import { startRedis, type Backend } from '../support/backends';
import { tempDir } from '../support/env';
import { LogCapture } from '../support/logs';
import { PASSWORD, RS_SECRET, seedStoreService } from '../support/store-service';
import { basic } from '../support/oauth-fixture';
import { until } from '../support/process';

// Issue 16, "Redis data loss": revocations live only in Redis, so a Redis that comes back empty
// (a restart without persistence, a failover to an empty replica) would bring revoked tokens back
// to life. The generation markers (store/redis/generations.ts) let the service see the loss and
// fail closed: every token issued before it counts as revoked. A real redis-server of this
// file's own, without persistence, emptied while the service runs.

const ISSUER = 'https://auth.example.test';

describe('Redis data loss: tokens issued before it are refused', () => {
  let redis: Backend;
  let admin: Redis;
  let deps: Deps;
  let app: Koa<AppState>;
  const logs = new LogCapture();

  const http = () => request(app.callback());
  const login = async () => {
    const res = await http().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'app', username: 'carol', password: PASSWORD, scope: 'items:read' });
    expect(res.status).toBe(200);
    return res.body as { access_token: string; refresh_token: string };
  };
  const introspect = (token: string) => http().post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token });
  const verify = (token: string) => http().get('/oauth/verify').set('Authorization', `Bearer ${token}`);
  const refresh = (token: string) => http().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'app', refresh_token: token });

  /** Another instance (or a CLI run) on the same Redis, under its own key prefix, whose tokens live 30 s. */
  const shortLivedInstance = (prefix: string) =>
    buildDeps(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', DATA_DIR: tempDir(), REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ISSUER, ACCESS_TOKEN_TTL: '30s' }), { logDestination: logs });

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', DATA_DIR: tempDir(), REDIS_URL: redis.url, ISSUER, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    deps = await buildDeps(config, { logDestination: logs });
    await seedStoreService(deps);
    app = createApp(deps);
  }, 60_000);

  afterAll(async () => {
    admin.disconnect();
    await closeDeps(deps);
    await redis.destroy();
  });

  it('a fresh Redis is not a loss: tokens work and nothing is logged', async () => {
    const { access_token: token } = await login();
    expect((await verify(token)).status).toBe(204);
    expect(logs.events('redis.data_lost')).toHaveLength(0);
  });

  it('after FLUSHALL, a token issued before is inactive, refused by forward-auth, and its refresh token refused; one issued after works', async () => {
    const before = await login();
    expect((await verify(before.access_token)).status).toBe(204);

    await admin.flushall();

    expect((await verify(before.access_token)).status).toBe(401);
    expect((await introspect(before.access_token)).body).toEqual({ active: false });
    const refreshed = await refresh(before.refresh_token);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');

    const after = await login();
    expect((await verify(after.access_token)).status).toBe(204);
    expect((await introspect(after.access_token)).body.active).toBe(true);
    expect((await refresh(after.refresh_token)).status).toBe(200);
    // The pre-loss token stays refused after the new generation began.
    expect((await verify(before.access_token)).status).toBe(401);

    const lost = logs.events('redis.data_lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 'error', lostTags: 1024 });
  });

  it('after a restart without persistence, seen on reconnect, a token issued before is refused', async () => {
    const before = await login();
    const seen = logs.events('redis.data_lost').length;
    await redis.stop();
    await redis.start();
    await until(() => logs.events('redis.data_lost').length > seen, 15_000, { what: 'the reconnect to find the loss' });
    expect((await verify(before.access_token)).status).toBe(401);
    const after = await login();
    expect((await verify(after.access_token)).status).toBe(204);
  });
  it('the revocation feed carries the loss: a jwks-mode verifier in push mode that replays it afterwards (no token checked since) refuses a token revoked before it', async () => {
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const verifiers: RequestVerifier[] = [];
    const pushVerifier = (audience: string) => {
      const created = createRequestVerifier({ mode: 'jwks', issuer: ISSUER, audience, jwksUri: `${url}/.well-known/jwks.json`, revocations: 'push', revocationFeedUrl: `${url}/oauth/revocations`, clientId: 'rs', clientSecret: RS_SECRET });
      verifiers.push(created);
      return created;
    };
    const status = async (rs: RequestVerifier, token: string) => {
      const result = await rs.verify({ headers: { authorization: `Bearer ${token}` } });
      return result.ok ? 200 : result.status;
    };
    try {
      const revoked = await login();
      const audience = String(decodeJwt(revoked.access_token).aud);
      const revokedRes = await http().post('/oauth/revoke').type('form').send({ client_id: 'app', token: revoked.access_token });
      expect(revokedRes.status).toBe(200);
      const lossesBefore = logs.events('redis.data_lost').length;

      // The revocation, and the feed entry that carried it, go with the data. No token is checked
      // in between: the verifier's replay itself must find the loss.
      await admin.flushall();
      const rs = pushVerifier(audience);
      const after = await login();
      await until(async () => (await status(rs, after.access_token)) === 200, 10_000, { what: 'the verifier to replay the feed and accept a token issued after the loss' });
      expect(await status(rs, revoked.access_token)).toBe(401);
      expect(logs.events('redis.data_lost').length).toBe(lossesBefore + 1);
      expect((await verify(revoked.access_token)).status).toBe(401);
    } finally {
      for (const created of verifiers) created.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  it('the feed keeps what is still relevant whatever the writer\'s ACCESS_TOKEN_TTL: a process with 30 s does not trim ten-minute-old entries', async () => {
    const short = await shortLivedInstance('trimtest:');
    try {
      // 150 entries written ten minutes ago by a service with longer tokens (more than one stream
      // node, so an approximate trim could drop the first whole).
      const old = Date.now() - 10 * 60_000;
      const stream = `${short.config.redisKeyPrefix}{revocation-feed}:stream`;
      for (let i = 0; i < 150; i++) await admin.xadd(stream, `${old + i}-0`, 't', 'jti', 'i', `old-${i}`, 'u', String(Math.floor(Date.now() / 1000) + 3600));
      const lengthBefore = await admin.xlen(stream);
      await short.revocations.blacklistAccessToken('jti-short', 'someone', Math.floor(Date.now() / 1000) + 30, Math.floor(Date.now() / 1000));
      expect(await admin.xlen(stream)).toBe(lengthBefore + 1);
    } finally {
      await closeDeps(short);
    }
  });
  it('the loss entry lasts as long as any instance\'s tokens, also when an instance with a 30 s ACCESS_TOKEN_TTL finds it', async () => {
    const short = await shortLivedInstance('losttest:');
    try {
      await until(async () => (await admin.exists('losttest:{u:AA}:gen')) === 1, 5000, { what: 'the markers to be written' });
      await short.revocations.revocationState('j', 'someone', Math.floor(Date.now() / 1000));
      await admin.flushall();
      // No token checked: the replay finds the loss itself.
      const replayed = await short.revocationFeed!.replay(undefined, Math.floor(Date.now() / 1000));
      const lost = replayed.map((event) => event.entry).find((entry) => entry.type === 'lost');
      expect(lost).toBeDefined();
      if (lost?.type === 'lost') expect(lost.until).toBeGreaterThanOrEqual(Math.floor(lost.before / 1000) + 86_400);
    } finally {
      await closeDeps(short);
    }
  });
});
