import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createHotPaths } from '../../src/http/hot-paths';
import { PROBE_REUSE_MS } from '../../src/http/health';
import { createDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logging/logger';
import { createRedisClient, redisTokenStores } from '../../src/store/redis/redis-store';
import type { Deps } from '../../src/deps';
import { MemoryThrottleStore } from '../../src/store/memory/memory-throttle';
import { Passwords } from '../../src/identity/passwords';
import { generateJwk } from '../../src/tokens/generate';
import { Keyring, parseKeySet } from '../../src/tokens/keyring';
import { freePort, startPostgres, startRedis, type Backend } from '../support/backends';
import { FakeClock } from '../support/clock';
import { createTestDeps, type TestDeps } from '../support/deps';
import { postgresUrl, redisUrl, testConfig } from '../support/env';
import { LogCapture } from '../support/logs';
import { createEvents } from '../../src/events/create-events';
import { startService } from '../../src/main';

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('GET /readyz on the embedded backends', () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps({ db: 'pglite', store: 'memory' });
  });
  afterAll(async () => deps.cleanup());

  it('is ready and names the backends', async () => {
    const res = await request(createApp(deps).callback()).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { database: { status: 'up', backend: 'pglite' }, store: { status: 'up', backend: 'memory' } },
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

// Throwaway servers of our own, because these tests stop them. They run whenever this run has
// real backends at all, which CI=true makes mandatory (test/support/global-setup.ts).
if (redisUrl() && postgresUrl()) describe('GET /readyz with real Redis and PostgreSQL going away and coming back', () => {
  let redis: Backend;
  let postgres: Backend;
  let deps: Deps;
  const logs = new LogCapture();

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    const config = testConfig({ READINESS_TIMEOUT_MS: '500' });
    const log = createLogger('info', logs);
    const stores = redisTokenStores(createRedisClient({ url: redis.url, keyPrefix: 'ready:' }));
    await stores.storage.connect();
    deps = {
      config,
      db: createDatabase({ kind: 'postgres', url: postgres.url }, log),
      dbKind: 'postgres',
      ...stores,
      throttle: new MemoryThrottleStore(),
      passwords: new Passwords(config.argon2),
      keyring: new Keyring(parseKeySet(JSON.stringify({ keys: [generateJwk()] }))),
      log,
      events: createEvents(log),
      clock: new FakeClock(),
    };
  }, 60_000);

  afterAll(async () => {
    await deps.storage.close();
    await deps.db.destroy();
    await Promise.all([redis.destroy(), postgres.destroy()]);
  });

  // One app, as a process has: the outage is logged by its Health (one per app).
  let app: ReturnType<typeof createApp> | undefined;
  const readiness = async () => request((app ??= createApp(deps)).callback()).get('/readyz');
  // After a dependency changes state: the previous probe's result answers for PROBE_REUSE_MS.
  const freshReadiness = async () => {
    await new Promise((resolve) => setTimeout(resolve, PROBE_REUSE_MS + 50));
    return readiness();
  };

  it('is ready when both answer', async () => {
    const res = await readiness();
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ database: { status: 'up', backend: 'postgres' }, store: { status: 'up', backend: 'redis' } });
  });

  it('reports a stopped Redis as 503 naming the store, and recovers when it returns', async () => {
    await redis.stop();
    const down = await freshReadiness();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.checks.store).toMatchObject({ status: 'down', backend: 'redis' });
    expect(down.body.checks.database.status).toBe('up');

    await redis.start();
    await eventually(async () => (await readiness()).status === 200);
  });

  it('stays ready (200, degraded) with PostgreSQL stopped: the hot paths need only Redis; logs the outage once and its end once', async () => {
    await postgres.stop();
    const down = await freshReadiness();
    expect(down.status).toBe(200);
    expect(down.body.status).toBe('degraded');
    expect(down.body.checks.database).toMatchObject({ status: 'down', backend: 'postgres' });
    expect(down.body.checks.store.status).toBe('up');
    expect(JSON.stringify(down.body)).not.toContain('127.0.0.1');
    await readiness();
    expect(logs.events('database.unavailable')).toHaveLength(1);

    await postgres.start();
    await eventually(async () => (await readiness()).body.status === 'ready');
    expect(logs.events('database.recovered')).toEqual([expect.objectContaining({ downMs: expect.any(Number) })]);
  });

  it('is not ready (503) while the database has never answered since start: a wrong DATABASE_URL stops a rollout', async () => {
    const db = createDatabase({ kind: 'postgres', url: `postgres://portcullis@127.0.0.1:${await freePort()}/none` }, deps.log);
    try {
      const res = await request(createApp({ ...deps, db }).callback()).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unavailable', checks: { database: { status: 'down' }, store: { status: 'up' } } });
    } finally {
      await db.destroy();
    }
  });

  it('answers 503 draining once the drain starts, with both dependencies up', async () => {
    const hot = createHotPaths(deps);
    const app = createApp(deps, hot);
    expect((await request(app.callback()).get('/readyz')).status).toBe(200);
    hot.health.startDrain();
    const res = await request(app.callback()).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'draining', checks: { database: { status: 'up', backend: 'postgres' }, store: { status: 'up', backend: 'redis' } } });
  });

  it('counts the start\'s own database check as an answer: a database lost before the first probe is degraded, not unavailable', async () => {
    const service = await startService({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: postgres.url, REDIS_URL: redis.url, MIGRATE_ON_START: 'true', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    try {
      await postgres.stop();
      const res = await request(`http://127.0.0.1:${service.http.port}`).get('/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'degraded', checks: { database: { status: 'down' }, store: { status: 'up' } } });
    } finally {
      await postgres.start();
      await service.stop('test');
    }
  }, 60_000);
});
