import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, ISSUER, oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';
import { createClient } from '../../src/identity/clients';
import { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { registerUser } from '../../src/identity/user-lifecycle';

// Issue 12: failed password checks and client authentications are throttled per (subject,
// address) and per address, and never lock the owner out from another address. Requests come
// from real, different source addresses (loopback answers for all of 127/8).

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

function send(port: number, path: string, form: Record<string, string>, { from = '127.0.0.2', headers = {} }: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', localAddress: from, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function start(env: Record<string, string>): Promise<{ deps: TestDeps; port: number; clock: FakeClock; close(): Promise<void> }> {
  const clock = new FakeClock();
  const { deps, app } = await oauthFixture({ LOGIN_FAILURES_BEFORE_DELAY: '10', ADDRESS_FAILURES_PER_HOUR: '100', ACCOUNT_FAILURES_ALERT: '50', ACCOUNT_FAILURE_DELAY: '0', ...env }, { clock });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    deps,
    clock,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.cleanup();
    },
  };
}

describe('throttling of failed password checks (password grant)', () => {
  let t: Awaited<ReturnType<typeof start>>;
  const login = (username: string, password: string, from?: string, headers?: Record<string, string>) =>
    send(t.port, '/oauth/token', { grant_type: 'password', client_id: 'mobile', username, password }, { ...(from ? { from } : {}), ...(headers ? { headers } : {}) });
  const fail = async (times: number, username: string, from: string, headers?: Record<string, string>) => {
    for (let i = 0; i < times; i += 1) expect((await login(username, 'wrong-password', from, headers)).status).toBe(400);
  };

  beforeEach(async () => {
    t = await start({});
    await registerUser(t.deps, { username: 'owner', password: 'owner-password' });
  });
  afterEach(async () => t.close());

  it('refuses the guessing address after 10 failures, even with the right password; the owner signs in from elsewhere and others from there', async () => {
    await fail(10, 'owner', '127.0.0.2');
    const checks = jest.spyOn(t.deps.passwords, 'check');
    const unknown = jest.spyOn(t.deps.passwords, 'checkUnknownUser');
    const refused = await login('owner', 'owner-password', '127.0.0.2');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'too many failed attempts; retry in 60 s' });
    expect(checks).not.toHaveBeenCalled(); // no argon2 work while refused
    expect((await login('owner', 'owner-password', '127.0.0.3')).status).toBe(200);
    expect((await login('alice', 'alice-password', '127.0.0.2')).status).toBe(200);
    expect(unknown).not.toHaveBeenCalled();
    const throttled = t.deps.logs.events('login.throttled');
    expect(throttled.at(-1)).toMatchObject({ username: 'owner', ip: '127.0.0.2', reason: 'pair_locked', retryAfterSec: 60 });
    const failed = t.deps.logs.events('login.failed');
    expect(failed.at(-1)).toMatchObject({ username: 'owner', clientId: 'mobile', ip: '127.0.0.2', pairFailures: 10 });
    expect(t.deps.logs.text()).not.toContain('wrong-password');
  });

  it('lets no more than the threshold of guesses through when they arrive all at once', async () => {
    const checks = jest.spyOn(t.deps.passwords, 'check');
    const replies = await Promise.all(Array.from({ length: 30 }, () => login('owner', 'wrong-password', '127.0.0.9')));
    expect(replies.filter((r) => r.status === 400)).toHaveLength(10);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(20);
    expect(checks).toHaveBeenCalledTimes(10);
  });

  it('answers an unknown username exactly as an existing one', async () => {
    await fail(10, 'owner', '127.0.0.2');
    await fail(10, 'nobody-at-all', '127.0.0.2');
    const [known, unknown] = [await login('owner', 'x', '127.0.0.2'), await login('nobody-at-all', 'x', '127.0.0.2')];
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    expect(unknown.headers['retry-after']).toBe(known.headers['retry-after']);
  });

  it('doubles the refusal with each failure after it ends, and a success resets the count', async () => {
    await fail(10, 'owner', '127.0.0.2');
    t.clock.advanceSeconds(60);
    await fail(1, 'owner', '127.0.0.2');
    expect((await login('owner', 'owner-password', '127.0.0.2')).headers['retry-after']).toBe('120');
    t.clock.advanceSeconds(120);
    expect((await login('owner', 'owner-password', '127.0.0.2')).status).toBe(200);
    await fail(9, 'owner', '127.0.0.2');
    expect((await login('owner', 'owner-password', '127.0.0.2')).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says whose to believe', async () => {
    // Off (the default): a client cannot dodge the throttle by naming other addresses.
    for (let i = 0; i < 10; i += 1) await login('owner', 'wrong-password', '127.0.0.2', { 'x-forwarded-for': `203.0.113.${i}` });
    expect((await login('owner', 'owner-password', '127.0.0.2', { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
  });

  it('counts a username\'s failures from every address and alerts, but never locks the owner out', async () => {
    await t.close();
    t = await start({ ACCOUNT_FAILURES_ALERT: '12' });
    await registerUser(t.deps, { username: 'owner', password: 'owner-password' });
    for (let i = 0; i < 24; i += 1) await login('owner', 'wrong-password', `127.0.1.${i + 1}`);
    const alerts = t.deps.logs.events('login.subject_under_attack');
    expect(alerts.map((line) => line.subjectFailures)).toEqual([12, 24]);
    expect((await login('owner', 'owner-password', '127.0.2.1')).status).toBe(200);
  });
});

describe('the address bucket, across usernames', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({ ADDRESS_FAILURES_PER_HOUR: '20' });
  });
  afterAll(async () => t.close());

  it('refuses an address that used up its failures, for any username, and refills with time', async () => {
    const login = (username: string, password: string, from: string) => send(t.port, '/oauth/token', { grant_type: 'password', client_id: 'mobile', username, password }, { from });
    for (let i = 0; i < 20; i += 1) expect((await login(`stuffed${i}`, 'guess', '127.0.0.4')).status).toBe(400);
    const refused = await login('alice', 'alice-password', '127.0.0.4');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('180'); // 20 an hour: one every 3 minutes
    expect(t.deps.logs.events('login.throttled').at(-1)).toMatchObject({ reason: 'address_exhausted', ip: '127.0.0.4' });
    expect((await login('alice', 'alice-password', '127.0.0.5')).status).toBe(200);
    t.clock.advanceSeconds(180);
    expect((await login('alice', 'alice-password', '127.0.0.4')).status).toBe(200);
  });
});

describe('TRUST_PROXY: behind a proxy, the forwarded address is the one throttled', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({ TRUST_PROXY: '1' });
    await registerUser(t.deps, { username: 'owner', password: 'owner-password' });
  });
  afterAll(async () => t.close());

  it('refuses the forwarded guesser while the owner, behind the same proxy, signs in', async () => {
    const login = (password: string, client: string) => send(t.port, '/oauth/token', { grant_type: 'password', client_id: 'mobile', username: 'owner', password }, { headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 10; i += 1) await login('wrong-password', '198.51.100.7');
    expect((await login('owner-password', '198.51.100.7')).status).toBe(429);
    expect((await login('owner-password', '198.51.100.8')).status).toBe(200);
    expect(t.deps.logs.events('login.throttled').at(-1)).toMatchObject({ ip: '198.51.100.7' });
  });
});

describe('throttling of failed client authentication', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({});
  });
  afterAll(async () => t.close());

  it('refuses a client id from an address after 10 failures, even with the right secret; elsewhere it works', async () => {
    const token = (secret: string, from: string) => send(t.port, '/oauth/token', { grant_type: 'client_credentials' }, { from, headers: { authorization: basic('service', secret) } });
    for (let i = 0; i < 10; i += 1) expect((await token('wrong-secret', '127.0.0.6')).status).toBe(401);
    const refused = await token(SERVICE_SECRET, '127.0.0.6');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect((await token(SERVICE_SECRET, '127.0.0.7')).status).toBe(200);
    expect(t.deps.logs.events('client_auth.failed').at(-1)).toMatchObject({ clientId: 'service', ip: '127.0.0.6', pairFailures: 10 });
    expect(t.deps.logs.events('client_auth.throttled').at(-1)).toMatchObject({ clientId: 'service', ip: '127.0.0.6' });
    expect(t.deps.logs.text()).not.toContain('wrong-secret');
    // Introspection takes the same guard.
    const introspect = await send(t.port, '/oauth/introspect', { token: 'x' }, { from: '127.0.0.6', headers: { authorization: basic('service', SERVICE_SECRET) } });
    expect(introspect.status).toBe(429);
  });

  it('a right secret resets the pair\'s count, as a right password does: failures before it do not add up to a lock', async () => {
    const token = (secret: string) => send(t.port, '/oauth/token', { grant_type: 'client_credentials' }, { from: '127.0.0.8', headers: { authorization: basic('service', secret) } });
    for (let i = 0; i < 6; i += 1) expect((await token('wrong-secret')).status).toBe(401);
    expect((await token(SERVICE_SECRET)).status).toBe(200);
    // Six more failures: under the threshold of 10 again, so the right secret still works.
    for (let i = 0; i < 6; i += 1) expect((await token('wrong-secret')).status).toBe(401);
    expect(t.deps.logs.events('client_auth.failed').at(-1)).toMatchObject({ clientId: 'service', ip: '127.0.0.8', pairFailures: 6 });
    expect((await token(SERVICE_SECRET)).status).toBe(200);
  });

  it('logs an unknown client id (perhaps the secret typed into the id field) only as a keyed hash, and a known one as it is', async () => {
    const swapped = await send(t.port, '/oauth/token', { grant_type: 'client_credentials', client_id: SERVICE_SECRET, client_secret: 'service' }, { from: '127.0.0.20' });
    expect(swapped.status).toBe(401);
    expect(t.deps.logs.events('client_auth.failed').at(-1)).toMatchObject({ clientId: expect.stringMatching(/^unknown:[0-9a-f]{16}$/), ip: '127.0.0.20' });
    expect(t.deps.logs.text()).not.toContain(SERVICE_SECRET);
    const wrong = await send(t.port, '/oauth/token', { grant_type: 'client_credentials' }, { from: '127.0.0.21', headers: { authorization: basic('service', 'not-its-secret') } });
    expect(wrong.status).toBe(401);
    expect(t.deps.logs.events('client_auth.failed').at(-1)).toMatchObject({ clientId: 'service', ip: '127.0.0.21' });
  });

  it('logs a throttled unknown client id by keyed hash too: it is refused before it is looked up', async () => {
    const typed = 'Xy9-looks-like-a-secret-0123456789';
    const attempt = () => send(t.port, '/oauth/token', { grant_type: 'client_credentials', client_id: typed, client_secret: 'anything' }, { from: '127.0.0.30' });
    for (let i = 0; i < 10; i += 1) expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429);
    expect(t.deps.logs.events('client_auth.throttled').at(-1)).toMatchObject({ clientId: expect.stringMatching(/^unknown:[0-9a-f]{16}$/), ip: '127.0.0.30' });
    expect(t.deps.logs.text()).not.toContain(typed);
  });
});

describe('the account API: the current password is throttled like a login', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({});
  });
  afterAll(async () => t.close());

  it('refuses a token holder who keeps guessing the current password', async () => {
    // A token for the account API (aud = issuer), through a client allowed that audience.
    await createClient(t.deps.db, { id: 'account-app', type: 'public', grantTypes: ['password'], scopes: [], audiences: [ISSUER] }, new Date(t.clock.now()));
    const { body } = await send(t.port, '/oauth/token', { grant_type: 'password', client_id: 'account-app', username: 'alice', password: 'alice-password', resource: ISSUER });
    const access = body.access_token as string;
    const change = (current: string) =>
      new Promise<number>((resolve, reject) => {
        const payload = JSON.stringify({ currentPassword: current, newPassword: 'a-brand-new-password' });
        const req = http.request({ host: '127.0.0.1', port: t.port, path: '/users/me/password', method: 'POST', localAddress: '127.0.0.8', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(payload);
      });
    for (let i = 0; i < 10; i += 1) expect(await change('not-the-password')).toBe(400);
    expect(await change('alice-password')).toBe(429);
  });
});

describe('found by the outside review', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({ TRUST_PROXY: '1', ADDRESS_FAILURES_PER_HOUR: '20' });
    await registerUser(t.deps, { username: 'owner', password: 'owner-password' });
  });
  afterAll(async () => t.close());
  const login = (username: string, password: string, client: string) => send(t.port, '/oauth/token', { grant_type: 'password', client_id: 'mobile', username, password }, { headers: { 'x-forwarded-for': client } });

  it('throttles an IPv6 client by its /64: hopping addresses inside it gains nothing', async () => {
    for (let i = 1; i <= 10; i += 1) await login('owner', 'wrong-password', `2001:db8:1:2::${i.toString(16)}`);
    expect((await login('owner', 'owner-password', '2001:db8:1:2:ffff::1')).status).toBe(429);
    expect((await login('owner', 'owner-password', '2001:db8:1:3::1')).status).toBe(200);
  });

  it('logs a typed username that cannot be one (often a password in the wrong field) only as a hash', async () => {
    await login('Secret!Passw0rd is not a name', 'wrong-password', '192.0.2.50');
    const failed = t.deps.logs.events('login.failed').at(-1);
    expect(failed).toMatchObject({ usernameHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(t.deps.logs.text()).not.toContain('Secret!Passw0rd');
    // A name that could be a username but names no one is hashed too: a password can look like one.
    for (let i = 0; i < 10; i += 1) await login('hunter2-correct-horse', 'wrong-password', '192.0.2.51');
    expect((await login('hunter2-correct-horse', 'wrong-password', '192.0.2.51')).status).toBe(429);
    expect(t.deps.logs.events('login.failed').at(-1)).toMatchObject({ usernameHash: expect.stringMatching(/^[0-9a-f]{16}$/), ip: '192.0.2.51' });
    expect(t.deps.logs.events('login.throttled').at(-1)).toMatchObject({ usernameHash: expect.stringMatching(/^[0-9a-f]{16}$/), ip: '192.0.2.51' });
    expect(t.deps.logs.text()).not.toContain('hunter2-correct-horse');
    // Not a plain hash a dictionary could reverse.
    expect(failed?.usernameHash).not.toBe(createHash('sha256').update('Secret!Passw0rd is not a name').digest('hex').slice(0, 16));
  });

  it('writes nothing more to the store for client failures from an address whose budget is spent', async () => {
    const token = (id: string) => send(t.port, '/oauth/token', { grant_type: 'client_credentials' }, { headers: { authorization: basic(id, 'wrong-secret'), 'x-forwarded-for': '192.0.2.77' } });
    const counted = jest.spyOn(t.deps.throttle, 'countSubjectFailure');
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => token(`random-client-${i}`)));
    expect(replies.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect(counted.mock.calls.length).toBeLessThanOrEqual(20);
  });
});
