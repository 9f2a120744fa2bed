import request from 'supertest';
import { setUserDisabled } from '../../src/identity/user-lifecycle';
import { createClient } from '../../src/identity/clients';
import { findConsent, grantConsent } from '../../src/identity/consents';
import { findUserByUsername } from '../../src/identity/users';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import type { FakeClock } from '../support/clock';
import { basic, RS_SECRET } from '../support/oauth-fixture';

describe('self-service API /users/me', () => {
  let f: ApiFixture;
  const api = () => request(f.app.callback());
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const active = async (token: string) => (await api().post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token })).body.active as boolean;
  const refresh = (token: string) => api().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'console', refresh_token: token });

  beforeAll(async () => {
    f = await apiFixture();
  });
  afterAll(async () => f.deps.cleanup());

  describe('authentication', () => {
    it('answers 401 with an RFC 6750 challenge without a token, or with a bad one', async () => {
      const none = await api().get('/users/me');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
      const bad = await api().get('/users/me').set(bearer('garbage'));
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    it("refuses a client's own token (no user behind it)", async () => {
      const service = (await api().post('/oauth/token').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ grant_type: 'client_credentials' })).body.access_token as string;
      expect((await api().get('/users/me').set(bearer(service))).status).toBe(401);
    });
  });

  describe('GET /users/me', () => {
    it('returns the profile fresh from the database, never the password hash', async () => {
      const token = await f.token('alice');
      await f.deps.db('users').where({ username: 'alice' }).update({ full_name: 'Alice Changed Elsewhere' });
      const res = await api().get('/users/me').set(bearer(token));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({ username: 'alice', fullName: 'Alice Changed Elsewhere', disabled: false, scopes: ['items:read', 'items:write', 'users:read'] });
      expect(JSON.stringify(res.body)).not.toMatch(/argon2|password_hash|passwordHash/);
    });

    it('answers 401 to a disabled user, at once', async () => {
      const { access_token: token } = await f.login('reader');
      (f.deps.clock as FakeClock).advance(5);
      await setUserDisabled(f.deps, 'reader', true);
      try {
        expect((await api().get('/users/me').set(bearer(token))).status).toBe(401);
      } finally {
        await setUserDisabled(f.deps, 'reader', false);
      }
    });
  });

  describe('PATCH /users/me', () => {
    it('changes email and full name', async () => {
      const token = await f.token('alice');
      const res = await api().patch('/users/me').set(bearer(token)).send({ email: 'alice@example.org', fullName: 'Alice A.' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ email: 'alice@example.org', fullName: 'Alice A.' });
      expect((await findUserByUsername(f.deps.db, 'alice'))?.email).toBe('alice@example.org');
      expect(f.deps.logs.events('account.updated').at(-1)).toMatchObject({ changed: ['email', 'fullName'] });
    });

    it('clears a field with null', async () => {
      const res = await api().patch('/users/me').set(bearer(await f.token('alice'))).send({ fullName: null });
      expect(res.body.fullName).toBeNull();
    });

    it.each([['username', 'mallory'], ['roles', ['superuser']], ['scopes', ['admin']], ['disabled', false], ['id', 'x'], ['password', 'sneaky-password']])(
      'refuses %s with 400 and changes nothing',
      async (field, value) => {
        const token = await f.token('alice');
        const before = await findUserByUsername(f.deps.db, 'alice');
        const res = await api().patch('/users/me').set(bearer(token)).send({ email: 'new@example.org', [field]: value });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'invalid_request', details: { [field]: 'unknown or read-only field' } });
        const after = await findUserByUsername(f.deps.db, 'alice');
        expect(after).toEqual(before);
      },
    );

    it('refuses invalid values with field-level messages', async () => {
      const res = await api().patch('/users/me').set(bearer(await f.token('alice'))).send({ email: 'not-an-email', fullName: '' });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ email: 'must be an e-mail address', fullName: 'must not be empty' });
    });

    it('refuses an empty change, a non-JSON body and malformed JSON', async () => {
      const token = await f.token('alice');
      expect((await api().patch('/users/me').set(bearer(token)).send({})).status).toBe(400);
      expect((await api().patch('/users/me').set(bearer(token)).type('form').send({ email: 'a@b.c' })).status).toBe(415);
      expect((await api().patch('/users/me').set(bearer(token)).set('content-type', 'application/json').send('{"email":')).status).toBe(400);
    });
  });

  describe('POST /users/me/password', () => {
    it('refuses a wrong current password and a weak new one', async () => {
      const token = await f.token('ops');
      const wrong = await api().post('/users/me/password').set(bearer(token)).send({ currentPassword: 'nope', newPassword: 'a-long-new-password' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('wrong_password');
      const weak = await api().post('/users/me/password').set(bearer(token)).send({ currentPassword: 'ops-password', newPassword: 'short' });
      expect(weak.status).toBe(400);
      expect(weak.body.error).toBe('weak_password');
      expect(await active(token)).toBe(true);
    });

    it('ends every session and access token; the old password stops working', async () => {
      const first = await f.login('ops');
      const second = await f.login('ops');
      const res = await api().post('/users/me/password').set(bearer(first.access_token)).send({ currentPassword: 'ops-password', newPassword: 'ops-password-2' });
      expect(res.status).toBe(204);
      expect(await active(first.access_token)).toBe(false);
      expect(await active(second.access_token)).toBe(false);
      expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
      expect((await refresh(second.refresh_token)).body.error).toBe('invalid_grant');
      await expect(f.login('ops')).rejects.toThrow(/login of ops failed/);
      expect((await f.login('ops', 'ops-password-2')).access_token).toEqual(expect.any(String));
    });

    it('keeps the calling session when asked: it refreshes at once into a working token', async () => {
      const mine = await f.login('clientops');
      const other = await f.login('clientops');
      const res = await api().post('/users/me/password').set(bearer(mine.access_token)).send({ currentPassword: 'clientops-password', newPassword: 'clientops-password-2', keepSession: true });
      expect(res.status).toBe(204);
      expect(await active(mine.access_token)).toBe(false);
      expect((await refresh(other.refresh_token)).body.error).toBe('invalid_grant');
      (f.deps.clock as FakeClock).advance(1); // the test clock stands still; a real one does not
      const renewed = await refresh(mine.refresh_token);
      expect(renewed.status).toBe(200);
      // The epoch has millisecond precision: a token issued after the change is active.
      expect(await active(renewed.body.access_token)).toBe(true);
      expect(f.deps.logs.events('account.password_changed').at(-1)).toMatchObject({ keptSession: true });
      expect(f.deps.logs.text()).not.toContain('clientops-password-2');
    });
  });

  describe('sessions', () => {
    it('lists live sessions, marks the current one, ends one and then all', async () => {
      const a = await f.login('remover');
      (f.deps.clock as FakeClock).advance(1);
      const b = await f.login('remover');
      const listed = await api().get('/users/me/sessions').set(bearer(a.access_token));
      expect(listed.status).toBe(200);
      const sessions = listed.body as Array<{ id: string; current: boolean; clientId: string; createdAt: string; lastUsedAt: string }>;
      expect(sessions.map((s) => s.id)).toEqual([a.refresh_token.split('.')[0], b.refresh_token.split('.')[0]]);
      expect(sessions.map((s) => s.current)).toEqual([true, false]);
      expect(sessions[0]).toMatchObject({ clientId: 'console', createdAt: expect.any(String), lastUsedAt: expect.any(String) });

      expect((await api().delete(`/users/me/sessions/${sessions[1]!.id}`).set(bearer(a.access_token))).status).toBe(204);
      expect((await refresh(b.refresh_token)).body.error).toBe('invalid_grant');
      expect(await active(b.access_token)).toBe(false);
      expect((await api().delete(`/users/me/sessions/${sessions[1]!.id}`).set(bearer(a.access_token))).status).toBe(404);

      expect((await api().delete('/users/me/sessions').set(bearer(a.access_token))).status).toBe(204);
      expect((await refresh(a.refresh_token)).body.error).toBe('invalid_grant');
    });

    it("cannot end another user's session", async () => {
      const victim = await f.login('root');
      const attacker = await f.token('alice');
      const res = await api().delete(`/users/me/sessions/${victim.refresh_token.split('.')[0]}`).set(bearer(attacker));
      expect(res.status).toBe(404);
      expect((await refresh(victim.refresh_token)).status).toBe(200);
    });
  });

  describe('consents (issue 14)', () => {
    const consents = (token: string) => api().get('/users/me/consents').set(bearer(token));
    const withdraw = (token: string, clientId: string) => api().delete(`/users/me/consents/${clientId}`).set(bearer(token));
    const idOf = async (username: string) => (await findUserByUsername(f.deps.db, username))!.id;
    const grantedAt = new Date('2026-04-01T12:00:00Z');

    beforeAll(async () => {
      const now = new Date(f.deps.clock.now());
      // A third-party app: it asks each user before it gets a scope.
      await createClient(f.deps.db, { id: 'printer', name: 'Photo Printer', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read', 'items:write'], requireConsent: true }, now);
      await createClient(f.deps.db, { id: 'planner', name: 'Planner', type: 'public', grantTypes: ['password'], scopes: ['items:read'], requireConsent: true }, now);
    });

    it("lists the user's consents, with each client's name, nobody else's", async () => {
      await grantConsent(f.deps.db, await idOf('alice'), 'printer', ['items:write', 'items:read'], grantedAt);
      await grantConsent(f.deps.db, await idOf('ops'), 'planner', ['items:read'], grantedAt);
      const res = await consents(await f.token('alice'));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual([{ clientId: 'printer', clientName: 'Photo Printer', scopes: ['items:read', 'items:write'], grantedAt: grantedAt.toISOString() }]);
      expect((await consents(await f.token('reader'))).body).toEqual([]);
    });

    it("withdraws a consent (204, then 404) and ends the user's sessions with that client, not others", async () => {
      const printerLogin = await api().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'printer', username: 'alice', password: 'alice-password', scope: 'items:read' });
      expect(printerLogin.status).toBe(200);
      const own = await f.login('alice');
      expect((await withdraw(own.access_token, 'printer')).status).toBe(204);
      expect(await findConsent(f.deps.db, await idOf('alice'), 'printer')).toBeUndefined();
      expect((await refresh(printerLogin.body.refresh_token as string)).status).toBe(400);
      expect(await active(printerLogin.body.access_token as string)).toBe(false);
      // The calling session, through another client, goes on.
      expect((await refresh(own.refresh_token)).status).toBe(200);
      expect(f.deps.logs.events('account.consent_revoked').at(-1)).toMatchObject({ actor: await idOf('alice'), clientId: 'printer', sessionsEnded: 1 });
      expect((await withdraw(own.access_token, 'printer')).status).toBe(404);
      expect((await consents(own.access_token)).body).toEqual([]);
    });

    it("cannot withdraw another user's consent: there is no way to name another user", async () => {
      const res = await withdraw(await f.token('alice'), 'planner');
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
      expect(await findConsent(f.deps.db, await idOf('ops'), 'planner')).toEqual(['items:read']);
    });

    it('answers 404 for a client id that names no client (never a 500), 401 without a user', async () => {
      const token = await f.token('alice');
      for (const id of ['nope', 'a%20b', 'x'.repeat(65)]) expect((await withdraw(token, id)).status).toBe(404);
      expect((await withdraw(token, '%00')).status).toBe(400); // the app refuses a NUL anywhere in the path
      expect((await api().get('/users/me/consents')).status).toBe(401);
      expect((await api().delete('/users/me/consents/planner')).status).toBe(401);
    });
  });
});
