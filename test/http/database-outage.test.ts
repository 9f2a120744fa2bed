import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logging/logger';
import type { Deps } from '../../src/deps';
import { postgresAvailable, startPostgres, type Backend } from '../support/backends';
import { FakeClock } from '../support/clock';
import { missingBackend, testConfig } from '../support/env';
import { LogCapture } from '../support/logs';
import { outageDeps } from '../support/outage-deps';
import { basic, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

// A PostgreSQL of our own, because these tests stop it. What the README's readiness table
// promises while the database is down (200 `degraded`), and 503 rather than 500 for the rest.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (!postgresAvailable()) missingBackend('PostgreSQL server binaries');
else describe('a PostgreSQL outage after start', () => {
  let postgres: Backend;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;
  const logs = new LogCapture();

  beforeAll(async () => {
    postgres = await startPostgres();
    // A 1 s client cache, so the outage below outlasts it.
    const config = testConfig({ LOG_LEVEL: 'debug', CLIENT_CACHE_TTL: '1s', REFRESH_SUBJECT_MAX_AGE: '1m', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    const log = createLogger('debug', logs);
    const db = createDatabase({ kind: 'postgres', url: postgres.url }, log);
    deps = await outageDeps(db, config, log);
    app = createApp(deps);
  }, 60_000);

  afterAll(async () => {
    await deps.storage.close();
    await deps.db.destroy();
    await postgres.destroy();
  });

  const post = (path: string, auth: string | undefined, form: Record<string, string>) => {
    const req = request(app.callback()).post(path).type('form');
    return (auth ? req.set('Authorization', auth) : req).send(form);
  };
  const introspect = (token: string) => post('/oauth/introspect', basic('rs', RS_SECRET), { token });
  const token = () => post('/oauth/token', basic('service', SERVICE_SECRET), { grant_type: 'client_credentials' });

  it('keeps introspection, revocation and recent refreshes working past CLIENT_CACHE_TTL for clients seen before; the rest answers 503, and a later query logs the recovery', async () => {
    const access = (await token()).body.access_token as string;
    const login = await post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    expect((await introspect(access)).body.active).toBe(true);

    await postgres.stop();
    await sleep(1500); // past CLIENT_CACHE_TTL: only the stale records can answer

    const during = await introspect(access);
    expect(during.status).toBe(200);
    expect(during.body.active).toBe(true);
    const refreshed = await post('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: login.body.refresh_token });
    expect(refreshed.status).toBe(200); // the family's roles snapshot is younger than REFRESH_SUBJECT_MAX_AGE
    expect((await token()).status).toBe(200); // client_credentials reads only the client
    expect((await post('/oauth/revoke', basic('service', SERVICE_SECRET), { token: access })).status).toBe(200);
    expect((await introspect(access)).body.active).toBe(false);

    // A login reads the user: the database's outage answers 503 with Retry-After, not 500.
    const refused = await post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(JSON.stringify(refused.body)).not.toContain('127.0.0.1');
    expect(logs.events('database.unavailable')).toHaveLength(1);
    expect(logs.events('database.recovered')).toHaveLength(0);

    await postgres.start();
    // No /readyz here: the first query that succeeds ends the outage in the log.
    const deadline = Date.now() + 15_000;
    const signIn = () => post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    while ((await signIn()).status !== 200) {
      if (Date.now() > deadline) throw new Error('sign-in did not recover');
      await sleep(200);
    }
    expect(logs.events('database.recovered')).toEqual([expect.objectContaining({ downMs: expect.any(Number) })]);
  }, 60_000);

  it('serves a refresh from the family\'s snapshot when it is due for a re-read but the database is down: the rotated token is never spent on a 503', async () => {
    const login = await post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    const other = await post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    // Past REFRESH_SUBJECT_MAX_AGE (1 min here) but within twice it: this rotation would read the user again.
    (deps.clock as FakeClock).advance((deps.config.refresh.subjectMaxAgeSec + 10) * 1000);
    await postgres.stop();
    let next: string;
    try {
      const refreshed = await post('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: login.body.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(typeof refreshed.body.access_token).toBe('string');
      next = refreshed.body.refresh_token as string;
      expect(logs.events('refresh.subject_stale')).toEqual([expect.objectContaining({ ageSec: deps.config.refresh.subjectMaxAgeSec + 10 })]);
      // A snapshot older than twice REFRESH_SUBJECT_MAX_AGE is not served: the outage answers.
      (deps.clock as FakeClock).advance(deps.config.refresh.subjectMaxAgeSec * 1000);
      const tooOld = await post('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: other.body.refresh_token });
      expect(tooOld.status).toBe(503);
    } finally {
      await postgres.start();
    }
    // Once the database is back, the successor works (read again: the snapshot is still old).
    const deadline = Date.now() + 15_000;
    let after = await post('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: next });
    while (after.status === 503 && Date.now() < deadline) {
      await sleep(200);
      after = await post('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: next });
    }
    expect(after.status).toBe(200);
  }, 60_000);

  it('answers 503 temporarily_unavailable with Retry-After outside the OAuth endpoints too (the account API reads the user)', async () => {
    const login = await post('/oauth/token', undefined, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    const me = () => request(app.callback()).get('/users/me').set('Authorization', `Bearer ${login.body.access_token as string}`);
    expect((await me()).status).toBe(200);
    await postgres.stop();
    try {
      const res = await me();
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      // The browser's pages say it as a page, not a 500 "something went wrong".
      const page = await request(app.callback()).get('/oauth/authorize').query({ response_type: 'code', client_id: 'never-read-before', redirect_uri: 'https://app.example/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      expect(page.status).toBe(503);
      expect(page.headers['retry-after']).toBe('5');
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('Sign-in is not available right now');
      expect(logs.events('http.unhandled_error')).toHaveLength(0);
    } finally {
      await postgres.start();
    }
  }, 60_000);
});
