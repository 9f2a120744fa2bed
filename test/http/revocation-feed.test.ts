import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import type { Cluster, Redis } from 'ioredis';
import { createApp } from '../../src/http/app';
import { FeedSubscribers } from '../../src/oauth/feed-subscribers';
import { publishingRevocations } from '../../src/store/feed-publishing';
import { RedisRevocationFeed } from '../../src/store/redis/redis-revocation-feed';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { connectTestRedis, sharedTarget, uniqueName } from '../support/env';
import { createClient } from '../../src/identity/clients';
import { basic, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';
import { openSse, type SseConnection } from '../support/sse';

// GET /oauth/revocations (issue 17) over a real socket: the service's app, Redis stores, and the
// feed on Redis Streams.
describe('GET /oauth/revocations (revocation feed)', () => {
  let deps: TestDeps;
  let server: Server;
  let base: string;
  let redis: Redis | Cluster;
  let feed: RedisRevocationFeed;
  const open: SseConnection[] = [];

  beforeAll(async () => {
    const fixture = await oauthFixture();
    redis = await connectTestRedis(sharedTarget('redis'), uniqueName('feed-http') + ':');
    feed = new RedisRevocationFeed(redis, fixture.deps.config.accessTokenTtlSec);
    deps = fixture.deps;
    await createClient(deps.db, { id: 'rs2', type: 'confidential', secret: `${RS_SECRET}-2`, grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true }, new Date(deps.clock.now()));
    const withFeed = { ...deps, ...publishingRevocations(deps, feed, deps.config.accessTokenTtlSec), revocationFeed: feed };
    const app = createApp(withFeed, undefined, { revocationFeed: { subscribers: new FeedSubscribers({ maxSubscribers: 3, maxPerClient: 2 }), heartbeatMs: 100 } });
    server = app.listen(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => open.splice(0).forEach((connection) => connection.close()));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await feed.close();
    redis.disconnect();
    await deps.cleanup();
  });

  const subscribe = async (headers: Record<string, string> = {}) => {
    const connection = await openSse(`${base}/oauth/revocations`, { authorization: basic('rs', RS_SECRET), ...headers });
    open.push(connection);
    return connection;
  };
  const serviceToken = async () => (await request(server).post('/oauth/token').type('form').auth('service', SERVICE_SECRET).send({ grant_type: 'client_credentials' })).body.access_token as string;
  const revoke = (token: string) => request(server).post('/oauth/revoke').type('form').auth('service', SERVICE_SECRET).send({ token });
  const jtiOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string }).jti;

  it('RFC 6749 §5.2: no or wrong client credentials are invalid_client (401), as for introspection', async () => {
    const none = await request(server).get('/oauth/revocations');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    const wrong = await request(server).get('/oauth/revocations').set('Authorization', basic('rs', 'not-the-secret-of-rs-at-all-32-chars!!'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    // README and RFC 7235 §3.1: with the challenge, also when no credentials came.
    for (const res of [none, wrong]) expect(res.headers['www-authenticate']).toBe('Basic realm="portcullis"');
  });

  it('RFC 7662 §2.1: a client not allowed to introspect gets the refusal introspection gives', async () => {
    const feedAnswer = await request(server).get('/oauth/revocations').set('Authorization', basic('service', SERVICE_SECRET));
    const introspection = await request(server).post('/oauth/introspect').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ token: 'x' });
    expect(feedAnswer.status).toBe(introspection.status);
    expect(feedAnswer.body.error).toBe(introspection.body.error);
  });

  it('replays what is still relevant on connect, then pushes new revocations live; ids only', async () => {
    const first = await serviceToken();
    expect((await revoke(first)).status).toBe(200);
    const connection = await subscribe();
    expect(connection.response.status).toBe(200);
    expect(connection.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(connection.response.headers.get('cache-control')).toBe('no-store');
    await connection.next('ready');
    expect(connection.events.filter((e) => e.event === 'jti').map((e) => JSON.parse(e.data).jti)).toContain(jtiOf(first));

    const second = await serviceToken();
    const live = connection.next('jti');
    await revoke(second);
    const pushed = JSON.parse((await live).data) as { jti: string; exp: number };
    expect(pushed.jti).toBe(jtiOf(second));
    expect(pushed.exp).toBeGreaterThan(0);
    const wire = connection.events.map((e) => e.data).join('\n');
    for (const token of [first, second]) expect(wire).not.toContain(token.split('.')[2]);
  });

  it('resumes from Last-Event-ID without the full replay', async () => {
    const connection = await subscribe();
    await connection.next('ready');
    const token = await serviceToken();
    const live = connection.next('jti');
    await revoke(token);
    const seen = await live;
    connection.close();
    const later = await serviceToken();
    await revoke(later);
    const resumed = await subscribe({ 'last-event-id': seen.id as string });
    await resumed.next('ready');
    expect(resumed.events.filter((e) => e.event === 'jti').map((e) => JSON.parse(e.data).jti)).toEqual([jtiOf(later)]);
  });

  it('stops replaying an entry once the tokens it affects have expired', async () => {
    const token = await serviceToken();
    await revoke(token);
    (deps.clock as FakeClock).advanceSeconds(deps.config.accessTokenTtlSec + 10);
    try {
      const connection = await subscribe();
      await connection.next('ready');
      expect(connection.events.map((e) => e.data).join()).not.toContain(jtiOf(token));
    } finally {
      (deps.clock as FakeClock).advanceSeconds(-(deps.config.accessTokenTtlSec + 10));
    }
  });

  it('sends heartbeat comments on an idle stream', async () => {
    const connection = await subscribe();
    await connection.next('ready');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(connection.comments).toBeGreaterThanOrEqual(2);
  });

  it('bounds subscribers per client and per instance: 503 with Retry-After beyond', async () => {
    await (await subscribe()).next('ready');
    await (await subscribe()).next('ready');
    const third = await request(server).get('/oauth/revocations').set('Authorization', basic('rs', RS_SECRET));
    expect(third.status).toBe(503);
    expect(third.body.error).toBe('temporarily_unavailable');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // The instance's bound (3): another client gets one more place, then none.
    const other = await openSse(`${base}/oauth/revocations`, { authorization: basic('rs2', `${RS_SECRET}-2`) });
    open.push(other);
    await other.next('ready');
    const full = await request(server).get('/oauth/revocations').set('Authorization', basic('rs2', `${RS_SECRET}-2`));
    expect(full.status).toBe(503);
    expect(full.body.error_description).toMatch(/instance/);
    // A closed stream gives its place back.
    open.splice(0).forEach((connection) => connection.close());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await subscribe();
    await again.next('ready');
  });
});
