import request from 'supertest';
import type Koa from 'koa';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config';
import type { Deps } from '../../src/deps';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { buildDeps, closeDeps } from '../../src/main';
import { tempDir } from '../support/env';
import { LogCapture } from '../support/logs';
import { PASSWORD, RS_SECRET, seedStoreService } from '../support/store-service';
import { basic } from '../support/oauth-fixture';
import { startRedisSentinel, type RedisSentinelBackend } from '../support/redis-topologies';

// Issue 13, Sentinel mode: the service built by its composition root (buildDeps) from
// REDIS_MODE=sentinel, on a real master, replica and sentinel (test/support/redis-topologies.ts).
// Then the master is killed: until the sentinel promotes the replica the service must fail
// closed (503 + Retry-After, never 500, never a revoked token reported active), and after the
// promotion it must answer again by itself, without a restart.
// Needs redis-server and redis-cli (Debian's redis-server and redis-tools); never skipped.

const ISSUER = 'https://auth.example.test';
// The sentinel marks the master down after 1 s and promotes within a few more; generous bound.
const FAILOVER_DEADLINE_MS = 20_000;

interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
}

describe('Redis Sentinel mode (REDIS_MODE=sentinel)', () => {
  let sentinel: RedisSentinelBackend | undefined;
  let deps: Deps | undefined;
  let app: Koa<AppState>;
  const logs = new LogCapture();

  const http = () => request(app.callback());
  const login = () => http().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'app', username: 'carol', password: PASSWORD, scope: 'items:read' });
  const refresh = (token: string) => http().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'app', refresh_token: token });
  const introspect = (token: string) => http().post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token });
  const revoke = (token: string) => http().post('/oauth/revoke').type('form').send({ client_id: 'app', token });

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      DATA_DIR: tempDir(),
      ISSUER,
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: sentinel.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: sentinel.name,
    });
    deps = await buildDeps(config, { logDestination: logs });
    await seedStoreService(deps);
    app = createApp(deps);
  }, 60_000);

  afterAll(async () => {
    if (deps) await closeDeps(deps);
    await sentinel?.destroy();
  });

  // Both tests share one deployment; the second kills its master, so the order matters.
  let rotated: Tokens;
  let revoked: Tokens;

  it('RFC 6749 §4.3 login, §6 refresh and RFC 7662 introspection through the master the sentinel names', async () => {
    const first = await login();
    expect(first.status).toBe(200);
    const refreshed = await refresh((first.body as Tokens).refresh_token);
    expect(refreshed.status).toBe(200);
    rotated = refreshed.body as Tokens;
    expect((await introspect(rotated.access_token)).body).toMatchObject({ active: true, sub: expect.any(String) });

    const other = await login();
    expect(other.status).toBe(200);
    revoked = other.body as Tokens;
    expect((await revoke(revoked.access_token)).status).toBe(200);
    expect((await introspect(revoked.access_token)).body).toEqual({ active: false });

    // The state really lives on the deployment's master, under the configured prefix.
    const master = new Redis(sentinel!.master.port, sentinel!.master.host);
    try {
      expect((await master.keys('portcullis:*')).length).toBeGreaterThan(0);
    } finally {
      master.disconnect();
    }
  });

  it('fails closed with 503 while there is no master and recovers by itself after the promotion', async () => {
    const deployment = sentinel!;
    // Replication is asynchronous (issue 13, Durability): this test is about the failover, so it
    // first waits until the replica has every write so far. A marker written on the master and
    // WAIT on that same connection: the replica acknowledging it has everything before it too.
    const master = new Redis(deployment.master.port, deployment.master.host);
    try {
      await master.set('failover-marker', '1');
      expect(await master.wait(1, 5_000)).toBe(1);
    } finally {
      master.disconnect();
    }
    await deployment.stopMaster();

    // While no master is promoted: nothing but 503 with Retry-After, and never a verdict that
    // the revoked token is active. Poll until the live token is active again (the promotion).
    const deadline = Date.now() + FAILOVER_DEADLINE_MS;
    let unavailable = 0;
    for (;;) {
      const [live, dead] = await Promise.all([introspect(rotated.access_token), introspect(revoked.access_token)]);
      for (const res of [live, dead]) {
        expect([200, 503]).toContain(res.status);
        if (res.status === 503) {
          unavailable += 1;
          expect(res.headers['retry-after']).toMatch(/^[1-9]\d?$/);
          expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        }
      }
      if (dead.status === 200) expect(dead.body).toEqual({ active: false });
      if (live.status === 200) {
        expect(live.body.active).toBe(true);
        break;
      }
      if (Date.now() > deadline) throw new Error(`no recovery within ${FAILOVER_DEADLINE_MS} ms of the master's death`);
      // A refresh during the outage must fail closed too; 503 changes nothing, so it is safe to
      // try the token again after the promotion.
      const during = await refresh(rotated.refresh_token);
      expect([200, 503]).toContain(during.status);
      if (during.status === 200) {
        // The promotion happened between the two calls: carry on with the rotated token.
        rotated = during.body as Tokens;
        continue;
      }
      unavailable += 1;
      expect(during.headers['retry-after']).toMatch(/^[1-9]\d?$/);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The master died with the first call: at least one request fell in the gap.
    expect(unavailable).toBeGreaterThan(0);
    expect(logs.events('http.unhandled_error')).toHaveLength(0);

    // On the promoted replica: the token rotated before the failover rotates again, the revoked
    // token stays revoked, a login works, and readiness reports the store up.
    const after = await refresh(rotated.refresh_token);
    expect(after.status).toBe(200);
    expect((await introspect((after.body as Tokens).access_token)).body.active).toBe(true);
    expect((await introspect(revoked.access_token)).body).toEqual({ active: false });
    expect((await login()).status).toBe(200);
    expect((await http().get('/readyz')).body.checks.store.status).toBe('up');
  }, FAILOVER_DEADLINE_MS + 15_000);
});
