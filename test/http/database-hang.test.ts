import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createHotPaths } from '../../src/http/hot-paths';
import { createDatabase } from '../../src/db/database';
import type { Knex } from 'knex';
import { migrationSource } from '../../src/db/migrate';
import { isDatabaseOutage } from '../../src/db/outage';
import { withoutQueryTimeout } from '../../src/db/pg-client';
import { createLogger } from '../../src/logging/logger';
import { instrument, type Instrumented } from '../../src/metrics/instrument';
import type { Deps } from '../../src/deps';
import { postgresAvailable, startPostgres, type Backend } from '../support/backends';
import { missingBackend, testConfig } from '../support/env';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy';
import { LogCapture } from '../support/logs';
import { outageDeps } from '../support/outage-deps';
import { basic, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

// A PostgreSQL that hangs instead of going away (a frozen server, a network that drops packets):
// its sockets stay open, so only the service's own timeouts can notice. Before
// DATABASE_QUERY_TIMEOUT a request on a pooled connection waited for the kernel's TCP timeout
// and a new connection's timeout surfaced as a 500. The hang is a relay that stops reading.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (!postgresAvailable()) missingBackend('PostgreSQL server binaries');
else describe('a PostgreSQL that stops answering', () => {
  let postgres: Backend;
  let proxy: FreezableProxy;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;
  let instrumented: Instrumented;
  const logs = new LogCapture();

  beforeAll(async () => {
    postgres = await startPostgres();
    proxy = await startFreezableProxy(postgres.port);
    const config = testConfig({ LOG_LEVEL: 'debug', CLIENT_CACHE_TTL: '1s', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    const log = createLogger('debug', logs);
    const db = createDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, connectTimeoutMs: 1000, queryTimeoutMs: 1000 }, log);
    deps = await outageDeps(db, config, log);
    const hot = createHotPaths(deps);
    instrumented = instrument(deps, hot.health);
    app = createApp(deps, hot, { metrics: instrumented.http });
  }, 60_000);

  afterAll(async () => {
    proxy.thaw();
    instrumented.stop();
    await deps.storage.close();
    await deps.db.destroy();
    await proxy.close();
    await postgres.destroy();
  });

  const post = (path: string, auth: string | undefined, form: Record<string, string>) => {
    const req = request(app.callback()).post(path).type('form');
    return (auth ? req.set('Authorization', auth) : req).send(form);
  };
  const signIn = () => post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
  const connectErrors = async (): Promise<number> => {
    const metric = await instrumented.metrics.registry.getSingleMetric('portcullis_database_query_errors_total')?.get();
    return metric?.values.find((value) => value.labels.method === 'connect')?.value ?? 0;
  };

  it('answers 503 with Retry-After within DATABASE_QUERY_TIMEOUT, on pooled and new connections alike, logs the outage once, and recovers when the server answers again', async () => {
    // Warm pool: these connections are the ones that hang first.
    const before = await signIn();
    expect(before.status).toBe(200);
    const access = (await post('/oauth/token', basic('service', SERVICE_SECRET), { grant_type: 'client_credentials' })).body.access_token as string;
    expect((await post('/oauth/introspect', basic('rs', RS_SECRET), { token: access })).body.active).toBe(true);
    const discovery = () => request(app.callback()).get('/.well-known/oauth-authorization-server');
    const scopesBefore = (await discovery()).body.scopes_supported as string[];
    expect(scopesBefore).toContain('items:read');

    proxy.freeze();
    try {
      const startedAt = Date.now();
      const pooled = await signIn();
      expect(pooled.status).toBe(503);
      expect(pooled.headers['retry-after']).toBe('5');
      expect(pooled.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      // A bound, not a measurement: the query timeout is 1 s; without it this waited minutes.
      expect(Date.now() - startedAt).toBeLessThan(5000);

      // The hung connection was dropped: the next request opens a new one, whose handshake hangs.
      const fresh = await signIn();
      expect(fresh.status).toBe(503);
      const me = await request(app.callback()).get('/users/me').set('Authorization', `Bearer ${before.body.access_token as string}`);
      expect(me.status).toBe(503);
      const page = await request(app.callback()).get('/oauth/authorize').query({ response_type: 'code', client_id: 'never-read-before', redirect_uri: 'https://app.example/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      expect(page.status).toBe(503);
      expect(page.text).toContain('Sign-in is not available right now');

      // What needs no database keeps working (the introspecting client was read before the hang).
      const introspected = await post('/oauth/introspect', basic('rs', RS_SECRET), { token: access });
      expect(introspected.status).toBe(200);
      expect(introspected.body.active).toBe(true);

      // The discovery document is static but for its scopes: the last list serves.
      const during = await discovery();
      expect(during.status).toBe(200);
      expect(during.body.scopes_supported).toEqual(scopesBefore);

      // Anyone can add an Origin header: the origins' read failing is not a line per request.
      for (let i = 0; i < 3; i += 1) expect((await request(app.callback()).get('/.well-known/jwks.json').set('Origin', `https://o${i}.example`)).status).toBe(200);
      expect(logs.events('cors.origins_unavailable').filter((line) => line.level !== 'debug')).toEqual([]);

      expect(logs.events('database.unavailable')).toHaveLength(1);
      expect(logs.events('http.unhandled_error')).toHaveLength(0);
      // The pool dropping each broken connection is not a warning per request.
      expect(logs.events('database.warning')).toHaveLength(0);
      expect(await connectErrors()).toBeGreaterThan(0);
    } finally {
      proxy.thaw();
    }

    const deadline = Date.now() + 15_000;
    while ((await signIn()).status !== 200) {
      if (Date.now() > deadline) throw new Error('sign-in did not recover');
      await sleep(200);
    }
    expect(logs.events('database.recovered')).toEqual([expect.objectContaining({ downMs: expect.any(Number) })]);
  }, 60_000);

  it('a statement waiting on a lock is cancelled by the server when the client stops waiting: no backend goes on waiting for nobody', async () => {
    const holder = createDatabase({ kind: 'postgres', url: postgres.url });
    try {
      await holder.transaction(async (trx) => {
        await trx.raw('lock table clients in access exclusive mode');
        const refused = await request(app.callback()).get('/oauth/authorize').query({ response_type: 'code', client_id: 'spa-locked', redirect_uri: 'https://app.example/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
        expect(refused.status).toBe(503);
        const waiting = await trx.raw<{ rows: Array<{ count: string }> }>("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()");
        expect(Number(waiting.rows[0]!.count)).toBe(0);
      });
    } finally {
      await holder.destroy();
    }
  }, 30_000);

  it('a write refused as read-only (a standby after a failover) is an outage, not a bug', async () => {
    const refused = await deps.db
      .transaction(async (trx) => {
        await trx.raw('set transaction read only');
        await trx('roles').insert({ name: 'never-written' });
      })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: '25006' });
    expect(isDatabaseOutage(refused)).toBe(true);
  });

  it('a hang in the middle of a transaction fails as an outage: the rollback on the dropped connection does not hide it', async () => {
    let error: unknown;
    try {
      await deps.db.transaction(async (trx) => {
        await trx.raw('select 1');
        proxy.freeze();
        await trx.raw('select 2');
      });
    } catch (caught) {
      error = caught;
    } finally {
      proxy.thaw();
    }
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect(isDatabaseOutage(error)).toBe(true);
  }, 30_000);

  it('does not bound migrations (knex runs each in a transaction): a schema change may take longer than a request may wait', async () => {
    const db = createDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, queryTimeoutMs: 1000 });
    const slow = { name: '9999-slow', up: async (knex: Knex) => void (await knex.raw('select pg_sleep(2)')), down: async () => undefined };
    try {
      // The server's statement_timeout ends a slow statement (57014), an outage to the handler.
      const refused = await db.raw('select pg_sleep(2)').catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: '57014' });
      expect(isDatabaseOutage(refused)).toBe(true);
      // A migration as the service runs one (its statement_timeout lifted, no client bound).
      await expect(withoutQueryTimeout(db, () => db.migrate.latest({ migrationSource: migrationSource([slow]), tableName: 'slow_migrations' }))).resolves.toEqual([expect.any(Number), ['9999-slow']]);
      // And bounded again after it.
      await expect(db.raw('select pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
    } finally {
      await db.destroy();
    }
  }, 30_000);
});
