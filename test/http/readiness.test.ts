import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logging/logger';
import { createRedisClient, redisTokenStores } from '../../src/store/redis/redis-store';
import type { Deps } from '../../src/deps';
import { MemoryThrottleStore } from '../../src/store/memory/memory-throttle';
import { Passwords } from '../../src/identity/passwords';
import { generateJwk } from '../../src/tokens/generate';
import { Keyring, parseKeySet } from '../../src/tokens/keyring';
import { startPostgres, startRedis, type Backend } from '../support/backends';
import { FakeClock } from '../support/clock';
import { createTestDeps, type TestDeps } from '../support/deps';
import { postgresUrl, redisUrl, testConfig } from '../support/env';
import { LogCapture } from '../support/logs';
import { createEvents } from '../../src/events/create-events';

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
      checks: { database: { status: 'ok', backend: 'pglite' }, store: { status: 'ok', backend: 'memory' } },
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

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    const config = testConfig({ READINESS_TIMEOUT_MS: '500' });
    const log = createLogger('silent', new LogCapture());
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

  const readiness = async () => request(createApp(deps).callback()).get('/readyz');

  it('is ready when both answer', async () => {
    const res = await readiness();
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ database: { status: 'ok', backend: 'postgres' }, store: { status: 'ok', backend: 'redis' } });
  });

  it('reports a stopped Redis as 503 naming the store, and recovers when it returns', async () => {
    await redis.stop();
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.checks.store).toMatchObject({ status: 'down', backend: 'redis' });
    expect(down.body.checks.database.status).toBe('ok');

    await redis.start();
    await eventually(async () => (await readiness()).status === 200);
  });

  it('reports a stopped PostgreSQL as 503 naming the database, and recovers when it returns', async () => {
    await postgres.stop();
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.checks.database).toMatchObject({ status: 'down', backend: 'postgres' });
    expect(down.body.checks.store.status).toBe('ok');
    expect(JSON.stringify(down.body)).not.toContain('127.0.0.1');

    await postgres.start();
    await eventually(async () => (await readiness()).status === 200);
  });
});
