import request from 'supertest';
import type { AnyEvent, EventName } from '../../src/events/catalogue';
import type { FakeClock } from '../support/clock';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { basic, RS_SECRET } from '../support/oauth-fixture';

// Issue 16 "Events, once": each security-relevant fact is emitted once, by the code path where it
// happens, over real HTTP; the log line is written by the log subscriber from that one event.

describe('events: one per fact', () => {
  let fixture: ApiFixture;
  let seen: AnyEvent[];
  let unsubscribe: () => void;
  const named = <K extends EventName>(name: K) => seen.filter((event): event is Extract<AnyEvent, { name: K }> => event.name === name);
  const post = (path: string) => request(fixture.app.callback()).post(path).type('form');

  beforeAll(async () => {
    fixture = await apiFixture();
  });
  afterAll(async () => fixture.deps.cleanup());
  beforeEach(() => {
    seen = [];
    unsubscribe = fixture.deps.events.onAny((event) => seen.push(event));
  });
  afterEach(() => unsubscribe());

  it('a password grant emits exactly one token.issued, with its request id and address', async () => {
    const res = await post('/oauth/token').set('X-Request-Id', 'req-password-1').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(res.status).toBe(200);
    expect(seen.map((event) => event.name)).toEqual(['token.issued']);
    expect(named('token.issued')[0]!.payload).toMatchObject({ grant: 'password', clientId: 'spa', requestId: 'req-password-1', ip: expect.any(String) });
    // The log subscriber wrote the line the tests and operators know, once.
    expect(fixture.deps.logs.events('token.issued').filter((line) => line.reqId === 'req-password-1')).toEqual([
      expect.objectContaining({ grant: 'password', clientId: 'spa', audit: true, outcome: 'success', client: 'spa' }),
    ]);
  });

  it('a wrong password emits one login.failed and no token event', async () => {
    const res = await post('/oauth/token').set('X-Request-Id', 'req-wrong-1').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'wrong-password' });
    expect(res.status).toBe(400);
    expect(seen.map((event) => event.name)).toEqual(['login.failed']);
    expect(named('login.failed')[0]!.payload).toMatchObject({ username: 'alice', clientId: 'spa', requestId: 'req-wrong-1' });
  });

  it('a refresh emits one token.refreshed; a reuse emits one refresh.reuse_detected (the family ends in the same step)', async () => {
    const login = await post('/oauth/token').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    const first = login.body.refresh_token as string;
    seen = [];
    expect((await post('/oauth/token').send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).status).toBe(200);
    expect(seen.map((event) => event.name)).toEqual(['token.refreshed']);
    // Past the grace window, the first token again is a reuse: the family ends.
    (fixture.deps.clock as FakeClock).advance((fixture.deps.config.refresh.graceSec + 1) * 1000);
    seen = [];
    expect((await post('/oauth/token').send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).status).toBe(400);
    expect(seen.map((event) => event.name)).toEqual(['refresh.reuse_detected']);
    expect(named('refresh.reuse_detected')[0]!.payload).toMatchObject({ clientId: 'spa', familyId: expect.any(String) });
  });

  it('an introspection emits one introspection.answered with the result and the secret id', async () => {
    const issued = await post('/oauth/token').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    seen = [];
    const active = await post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).send({ token: issued.body.access_token });
    expect(active.body.active).toBe(true);
    const inactive = await post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).send({ token: 'not-a-token' });
    expect(inactive.body.active).toBe(false);
    expect(seen.map((event) => event.name)).toEqual(['introspection.answered', 'introspection.answered']);
    const [yes, no] = named('introspection.answered').map((event) => event.payload);
    expect(yes).toMatchObject({ active: true, clientId: 'rs', secretId: expect.any(String), tokenType: 'access_token' });
    expect(no).toMatchObject({ active: false, clientId: 'rs', secretId: (yes as { secretId: string }).secretId });
  });

  it('a wrong client secret emits one client_auth.failed', async () => {
    const res = await post('/oauth/introspect').set('Authorization', basic('rs', 'not-the-secret-but-long-enough-to-look-real')).set('X-Request-Id', 'req-client-1').send({ token: 'x' });
    expect(res.status).toBe(401);
    expect(seen.map((event) => event.name)).toEqual(['client_auth.failed']);
    expect(named('client_auth.failed')[0]!.payload).toMatchObject({ clientId: 'rs', requestId: 'req-client-1' });
  });

  it('an admin client rotation emits one admin.action with actor and target', async () => {
    const token = await fixture.token('root');
    seen = [];
    const res = await request(fixture.app.callback()).post('/admin/clients/rs/secrets').set('Authorization', `Bearer ${token}`).set('X-Request-Id', 'req-rotate-1').send({});
    expect(res.status).toBeLessThan(300);
    const actions = named('admin.action');
    expect(actions).toHaveLength(1);
    expect(actions[0]!.payload).toMatchObject({ action: 'client_secret_rotated', target: 'rs', outcome: 'success', via: 'api', actorClient: 'console', requestId: 'req-rotate-1' });
    const line = fixture.deps.logs.events('admin.client_secret_rotated').find((entry) => entry.reqId === 'req-rotate-1');
    expect(line).toMatchObject({ audit: true, target: 'rs', subject: 'rs', actor: actions[0]!.payload.actor });
    expect(typeof res.body.secret).toBe('string');
    expect(JSON.stringify(line)).not.toContain(res.body.secret as string);
  });

  it('the account API\'s events carry the request id and address', async () => {
    const token = await fixture.token('reader');
    seen = [];
    const res = await request(fixture.app.callback()).patch('/users/me').set('Authorization', `Bearer ${token}`).set('X-Request-Id', 'req-me-1').send({ fullName: 'Rea Der' });
    expect(res.status).toBe(200);
    expect(named('account.updated').map((event) => event.payload)).toEqual([expect.objectContaining({ requestId: 'req-me-1', ip: expect.any(String), changed: ['fullName'] })]);
  });

  it('a refused admin call emits one admin.refused with actor, operation, target and reason, reads included', async () => {
    const reader = await fixture.token('reader');
    const ops = await fixture.token('ops');
    seen = [];
    const target = '00000000-0000-4000-8000-00000000000A';
    const read = await request(fixture.app.callback()).get(`/admin/users/${target}`).set('Authorization', `Bearer ${reader}`).set('X-Request-Id', 'req-refused-1');
    expect(read.status).toBe(403);
    const grant = await request(fixture.app.callback()).post('/admin/users').set('Authorization', `Bearer ${ops}`).set('X-Request-Id', 'req-refused-2').send({ username: 'mallory', password: 'mallory-long-password', scopes: ['admin'] });
    expect(grant.status).toBe(403);
    const rotate = await request(fixture.app.callback()).post('/admin/clients/rs/secrets').set('Authorization', `Bearer ${ops}`).send({});
    expect(rotate.status).toBe(403);
    const refused = named('admin.refused').map((event) => event.payload);
    expect(refused).toEqual([
      expect.objectContaining({ operation: 'GET /admin/users/:id', target: target.toLowerCase(), reason: 'insufficient_scope', actorClient: 'console', requestId: 'req-refused-1', ip: expect.any(String) }),
      expect.objectContaining({ operation: 'POST /admin/users', reason: 'forbidden_grant', requestId: 'req-refused-2' }),
      expect.objectContaining({ operation: 'POST /admin/clients/:id/secrets', target: 'rs', reason: 'insufficient_scope' }),
    ]);
    expect(named('admin.action')).toHaveLength(0);
    const line = fixture.deps.logs.events('admin.refused').find((entry) => entry.reqId === 'req-refused-2');
    expect(line).toMatchObject({ audit: true, outcome: 'failure', actor: refused[1]!.actor, level: 'warn' });
    expect(JSON.stringify(line)).not.toContain('mallory-long-password');
    // A loop of refusals is one line a minute (the rest counted), and a path that is no id is hashed.
    seen = [];
    const junk = `x${'%0a'.repeat(10)}${'y'.repeat(5000)}`;
    for (let i = 0; i < 5; i += 1) expect((await request(fixture.app.callback()).get(`/admin/clients/${junk}`).set('Authorization', `Bearer ${reader}`)).status).toBe(403);
    expect(named('admin.refused').map((event) => event.payload)).toEqual([expect.objectContaining({ operation: 'GET /admin/clients/:id', target: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) })]);
    expect(JSON.stringify(fixture.deps.logs.events('admin.refused'))).not.toContain('yyyyyyyyyy');
    // No token, no audit line: anonymous traffic is the request log's.
    seen = [];
    expect((await request(fixture.app.callback()).get('/admin/users')).status).toBe(401);
    expect(named('admin.refused')).toHaveLength(0);
  });
});
