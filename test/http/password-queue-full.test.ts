import request from 'supertest';
import type { Argon2Settings } from '../../src/config/config';
import { createApp } from '../../src/http/app';
import { Passwords, rustArgon2, type Argon2Binding } from '../../src/identity/passwords';
import { findUserByUsername } from '../../src/identity/users';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { until } from '../support/process';

// Issue 12: when the password-hash queue is full, every endpoint that hashes a password answers
// 503 temporarily_unavailable with Retry-After (RFC 6749 §5.2 shape, RFC 9110 §10.2.3), and an
// address over its share of the queue gets 429 — never a 500. The queue is filled
// deterministically: one slot, held by a hash that waits for the test to let it go.

/** The real binding, held at its start until `open()`; `entered` resolves when a hash starts. */
function heldBinding(): { binding: Argon2Binding; entered: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const binding: Argon2Binding = {
    hash: async (password, options) => {
      enter();
      await opened;
      return rustArgon2.hash(password, options);
    },
    verify: async (hash, password) => {
      enter();
      await opened;
      return rustArgon2.verify(hash, password);
    },
    needsRehash: (hash, options) => rustArgon2.needsRehash(hash, options),
  };
  return { binding, entered, open };
}

const expectOverloaded = (res: request.Response, status: 503 | 429, description: RegExp) => {
  expect(res.status).toBe(status);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(2);
  expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(description) });
  expect(res.headers['cache-control']).toBe('no-store');
};

describe('issue 12: a full password-hash queue', () => {
  let fixture: ApiFixture;
  let aliceId: string;
  let aliceToken: string;
  let rootToken: string;

  beforeAll(async () => {
    fixture = await apiFixture();
    aliceId = (await findUserByUsername(fixture.deps.db, 'alice'))!.id;
    aliceToken = await fixture.token('alice');
    rootToken = await fixture.token('root');
  });
  afterAll(() => fixture.deps.cleanup());

  /** The fixture's service with one hash slot, taken by a login that waits for `open()`. */
  async function saturated(settings: Partial<Argon2Settings>) {
    const held = heldBinding();
    const passwords = new Passwords({ ...fixture.deps.config.argon2, maxConcurrent: 1, ...settings }, held.binding);
    const server = request(createApp({ ...fixture.deps, passwords }).callback());
    const login = () => server.post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: 'ops', password: 'ops-password' });
    // supertest sends on then(); the promise keeps the answer for the end of the test.
    const blocker = login().then((res) => res);
    await held.entered;
    return { server, passwords, login, blocker, open: held.open };
  }

  const cases: Array<[string, (server: ReturnType<typeof request>) => request.Test]> = [
    ['RFC 6749 §4.3 password grant', (server) => server.post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: 'alice', password: 'alice-password' })],
    ['POST /users/me/password', (server) => server.post('/users/me/password').set('authorization', `Bearer ${aliceToken}`).send({ currentPassword: 'alice-password', newPassword: 'a-new-password' })],
    ['POST /admin/users/:id/password', (server) => server.post(`/admin/users/${aliceId}/password`).set('authorization', `Bearer ${rootToken}`).send({ password: 'a-new-password' })],
    ['POST /admin/users', (server) => server.post('/admin/users').set('authorization', `Bearer ${rootToken}`).send({ username: 'newcomer', password: 'newcomer-password' })],
  ];

  it.each(cases)('%s answers 503 temporarily_unavailable with Retry-After', async (_name, send) => {
    const { server, blocker, open, passwords } = await saturated({ maxQueue: 0 });
    try {
      expectOverloaded(await send(server), 503, /retry shortly/);
      expect(passwords.pending).toBe(0);
    } finally {
      open();
    }
    expect((await blocker).status).toBe(200);
  });

  it('refuses an address beyond its share of the queue with 429 and Retry-After; others still queue', async () => {
    const { server, blocker, open, login, passwords } = await saturated({ maxQueue: 10, maxQueuePerAddress: 2 });
    const waiting = [login().then((res) => res), login().then((res) => res)];
    try {
      await until(() => passwords.pending >= 2, 5_000, { intervalMs: 10 }).catch(() => undefined);
      expect(passwords.pending).toBe(2);
      expectOverloaded(await login(), 429, /too many logins in progress from this address/);
      expectOverloaded(await server.post('/users/me/password').set('authorization', `Bearer ${aliceToken}`).send({ currentPassword: 'alice-password', newPassword: 'a-new-password' }), 429, /from this address/);
      expect(passwords.pending).toBe(2);
    } finally {
      open();
    }
    // The waiting ones were kept, and are answered once the slot frees.
    expect((await Promise.all([blocker, ...waiting])).map((res) => res.status)).toEqual([200, 200, 200]);
  });
});
