import type Koa from 'koa';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createHotPaths } from '../../src/http/hot-paths';
import type { AppState } from '../../src/http/context';
import { instrument, type Instrumented } from '../../src/metrics/instrument';
import { metricsApp } from '../../src/metrics/server';
import { generateJwk } from '../../src/tokens/generate';
import { parseKeySet } from '../../src/tokens/keyring';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { basic, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

// Issue 16, Metrics: the exposition (names, labels, HELP and TYPE) and counters that move with
// the requests that cause them.

describe('GET /metrics (Prometheus exposition)', () => {
  let deps: TestDeps;
  let api: Koa<AppState>;
  let instrumented: Instrumented;

  beforeAll(async () => {
    ({ deps } = await oauthFixture());
    const hot = createHotPaths(deps);
    instrumented = instrument(deps, hot.health);
    api = createApp(deps, hot, { metrics: instrumented.http });
  });
  afterAll(async () => {
    instrumented.stop();
    await deps.cleanup();
  });

  const scrape = async (): Promise<string> => {
    const res = await request(metricsApp(instrumented.metrics.registry).callback()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };
  /** The sample's value, 0 when the series does not exist yet. */
  const sample = (text: string, series: string): number => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };

  it('describes every metric with HELP and TYPE, in Prometheus naming', async () => {
    const text = await scrape();
    const expected: Array<[string, string]> = [
      ['portcullis_http_requests_total', 'counter'],
      ['portcullis_http_request_duration_seconds', 'histogram'],
      ['portcullis_tokens_issued_total', 'counter'],
      ['portcullis_refresh_rotations_total', 'counter'],
      ['portcullis_refresh_grace_replays_total', 'counter'],
      ['portcullis_refresh_reuse_detections_total', 'counter'],
      ['portcullis_introspections_total', 'counter'],
      ['portcullis_logins_total', 'counter'],
      ['portcullis_login_failures_total', 'counter'],
      ['portcullis_login_throttled_total', 'counter'],
      ['portcullis_password_hash_queue_depth', 'gauge'],
      ['portcullis_password_hash_wait_seconds', 'histogram'],
      ['portcullis_redis_command_duration_seconds', 'histogram'],
      ['portcullis_redis_command_errors_total', 'counter'],
      ['portcullis_database_query_duration_seconds', 'histogram'],
      ['portcullis_database_query_errors_total', 'counter'],
      ['portcullis_signing_key_info', 'gauge'],
      ['portcullis_dependency_up', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
    ];
    for (const [name, type] of expected) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    for (const name of text.matchAll(/^# TYPE (portcullis_\w+) (\w+)$/gm)) {
      if (name[2] === 'counter') expect(name[1]).toMatch(/_total$/);
    }
  });

  it('counts a client_credentials grant as a token issued, by grant type and client', async () => {
    const series = 'portcullis_tokens_issued_total{grant_type="client_credentials",client_id="service"}';
    const before = sample(await scrape(), series);
    const res = await request(api.callback()).post('/oauth/token').set('Authorization', basic('service', SERVICE_SECRET)).type('form').send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    const text = await scrape();
    expect(sample(text, series)).toBe(before + 1);
    expect(sample(text, 'portcullis_http_requests_total{method="POST",route="/oauth/token",code="200"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'portcullis_http_request_duration_seconds_count{method="POST",route="/oauth/token"}')).toBeGreaterThanOrEqual(1);
  });

  it('labels a parameterised route by its template, even when its router refuses the request first', async () => {
    const id = 'some-client-id-that-must-not-become-a-label';
    const res = await request(api.callback()).get(`/admin/clients/${id}`);
    expect(res.status).toBe(401);
    const text = await scrape();
    expect(sample(text, 'portcullis_http_requests_total{method="GET",route="/admin/clients/:id",code="401"}')).toBe(1);
    expect(text).not.toContain(id);
  });

  it('labels every unrouted URL as one series', async () => {
    await request(api.callback()).get('/no/such/path/12345');
    const text = await scrape();
    expect(sample(text, 'portcullis_http_requests_total{method="GET",route="unmatched",code="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('12345');
  });

  it('labels a method no route serves as other: PROPFIND and its 34 kin add no series', async () => {
    await request(api.callback()).propfind('/healthz');
    await request(api.callback()).mkcol('/admin/clients/x');
    const text = await scrape();
    expect(text).not.toMatch(/method="(PROPFIND|MKCOL)"/);
    expect(text).toMatch(/portcullis_http_requests_total\{method="other",route="\/healthz",code="\d+"\} 1/);
  });

  it('counts introspection answers by result', async () => {
    const token = (await request(api.callback()).post('/oauth/token').set('Authorization', basic('service', SERVICE_SECRET)).type('form').send({ grant_type: 'client_credentials' })).body.access_token as string;
    const before = await scrape();
    for (const candidate of [token, 'not-a-token']) {
      const res = await request(api.callback()).post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token: candidate });
      expect(res.status).toBe(200);
    }
    const after = await scrape();
    expect(sample(after, 'portcullis_introspections_total{result="active"}')).toBe(sample(before, 'portcullis_introspections_total{result="active"}') + 1);
    expect(sample(after, 'portcullis_introspections_total{result="inactive"}')).toBe(sample(before, 'portcullis_introspections_total{result="inactive"}') + 1);
  });

  it('counts a refresh-token reuse once, as a reuse and as a login ended for it', async () => {
    const login = await request(api.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    const first = login.body.refresh_token as string;
    expect((await request(api.callback()).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).status).toBe(200);
    (deps.clock as FakeClock).advance((deps.config.refresh.graceSec + 1) * 1000);
    const before = await scrape();
    expect((await request(api.callback()).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).status).toBe(400);
    const after = await scrape();
    expect(sample(after, 'portcullis_families_revoked_total{reason="reuse_detected"}')).toBe(sample(before, 'portcullis_families_revoked_total{reason="reuse_detected"}') + 1);
    expect(sample(after, 'portcullis_refresh_reuse_detections_total{client_id="spa"}')).toBe(sample(before, 'portcullis_refresh_reuse_detections_total{client_id="spa"}') + 1);
  });

  it('counts a wrong password as a login failure and times the hash', async () => {
    const before = await scrape();
    const res = await request(api.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'wrong-password' });
    expect(res.status).toBe(400);
    const after = await scrape();
    expect(sample(after, 'portcullis_login_failures_total')).toBe(sample(before, 'portcullis_login_failures_total') + 1);
    expect(sample(after, 'portcullis_password_hash_wait_seconds_count')).toBeGreaterThan(sample(before, 'portcullis_password_hash_wait_seconds_count'));
    expect(sample(after, 'portcullis_password_hash_queue_depth')).toBe(0);
  });

  it('shows the signing keys by kid and state, following a reload', async () => {
    expect(sample(await scrape(), 'portcullis_signing_key_info{kid="test-key",state="active"}')).toBe(1);
    const previous = deps.keyring.current;
    deps.keyring.replace(parseKeySet(JSON.stringify({ keys: [generateJwk('ES256', 'key-2', 'active'), { ...generateJwk('ES256', 'test-key', 'retired') }] })));
    try {
      const text = await scrape();
      expect(sample(text, 'portcullis_signing_key_info{kid="key-2",state="active"}')).toBe(1);
      expect(sample(text, 'portcullis_signing_key_info{kid="test-key",state="retired"}')).toBe(1);
      expect(text).not.toContain('portcullis_signing_key_info{kid="test-key",state="active"}');
    } finally {
      deps.keyring.replace(previous);
    }
  });

  it('times database queries and store commands, and reports both dependencies up', async () => {
    const text = await scrape();
    expect(sample(text, 'portcullis_database_query_duration_seconds_count{method="select"}') + sample(text, 'portcullis_database_query_duration_seconds_count{method="first"}')).toBeGreaterThan(0);
    expect(sample(text, 'portcullis_dependency_up{dependency="database"}')).toBe(1);
    expect(sample(text, 'portcullis_dependency_up{dependency="store"}')).toBe(1);
    if (deps.storage.kind === 'redis') expect(text).toMatch(/^portcullis_redis_command_duration_seconds_count\{command="\w+"\} [1-9]/m);
  });

  it('shares the readiness probe: a burst of scrapes and /readyz calls runs one select 1 and one PING', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the reuse window of earlier probes
    const pings: string[] = [];
    const onQuery = (query: { sql?: string }) => {
      if (query.sql === 'select 1') pings.push(query.sql);
    };
    deps.db.on('query', onQuery);
    const storePing = jest.spyOn(deps.storage, 'ping');
    try {
      const metrics = metricsApp(instrumented.metrics.registry).callback();
      const replies = await Promise.all([
        ...Array.from({ length: 10 }, () => request(metrics).get('/metrics')),
        ...Array.from({ length: 10 }, () => request(api.callback()).get('/readyz')),
      ]);
      expect(replies.every((reply) => reply.status === 200)).toBe(true);
      expect(pings).toHaveLength(1);
      expect(storePing).toHaveBeenCalledTimes(1);
    } finally {
      deps.db.off('query', onQuery);
      storePing.mockRestore();
    }
  });

  it('serves nothing but GET /metrics', async () => {
    const metrics = request(metricsApp(instrumented.metrics.registry).callback());
    expect((await metrics.get('/')).status).toBe(404);
    expect((await metrics.get('/oauth/token')).status).toBe(404);
    expect((await metrics.post('/metrics')).status).toBe(405);
  });
});
