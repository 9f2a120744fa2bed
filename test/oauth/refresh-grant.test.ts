import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { changeUser, setUserDisabled, setUserPassword } from '../../src/identity/user-lifecycle';
import { findUserByUsername } from '../../src/identity/users';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { storeKinds } from '../support/env';
import { basic, oauthFixture, SERVICE_SECRET, verifyAccessToken } from '../support/oauth-fixture';

const DAY = 86_400;
const HOUR = 3_600;

describe.each(storeKinds())('refresh_token grant (%s store)', (store) => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let clock: FakeClock;

  const token = (form: Record<string, string>, headers: Record<string, string> = {}) => request(app.callback()).post('/oauth/token').type('form').set(headers).send(form);
  const login = async (username = 'alice', password = `${username}-password`, extra: Record<string, string> = {}) => {
    const res = await token({ grant_type: 'password', client_id: 'spa', username, password, scope: 'items:read items:write', ...extra }, { 'User-Agent': 'refresh-test/1.0' });
    expect(res.status).toBe(200);
    return res.body as { access_token: string; refresh_token: string; scope: string };
  };
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) => token({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken, ...extra });
  const familyOf = (refreshToken: string) => refreshToken.split('.')[0]!;
  /** Counts the database queries the service sends until stop(). */
  const countQueries = () => {
    let count = 0;
    const onQuery = () => {
      count += 1;
    };
    deps.db.on('query', onQuery);
    return {
      stop: () => {
        deps.db.off('query', onQuery);
        return count;
      },
    };
  };
  const INVALID = { error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked' };

  beforeAll(async () => {
    // The spa client is public; this suite is about the family rules under REFRESH_TOKEN_TTL and
    // REFRESH_IDLE_TTL, so public clients get those here (their shorter defaults are tested with
    // the code flow, test/oauth/authorization-code.test.ts).
    ({ deps, app } = await oauthFixture({ PUBLIC_CLIENT_REFRESH_TTL: '30d', PUBLIC_CLIENT_REFRESH_IDLE_TTL: '7d' }, { store }));
    clock = deps.clock as FakeClock;
  });
  afterAll(async () => deps.cleanup());

  describe('login', () => {
    it('gives a client allowed refresh_token an opaque refresh token naming its family', async () => {
      const body = await login();
      expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);
      const claims = await verifyAccessToken({ app, deps }, body.access_token);
      expect(claims.sid).toBe(familyOf(body.refresh_token));
    });

    it('records the login as a session of the user, with the IP and user agent of the login', async () => {
      const body = await login();
      const alice = await findUserByUsername(deps.db, 'alice');
      const sessions = await deps.families.listFamilies(alice!.id, clock.now());
      const session = sessions.find((s) => s.id === familyOf(body.refresh_token));
      expect(session).toMatchObject({ clientId: 'spa', scope: ['items:read', 'items:write'], audience: 'https://api.example.test', generation: 0, revoked: false, userAgent: 'refresh-test/1.0' });
      expect(session!.ip).toMatch(/127\.0\.0\.1|::1/);
    });

    it('keeps the secret out of the store: only its hash is there', async () => {
      const body = await login();
      const secret = body.refresh_token.split('.')[1]!;
      const family = await deps.families.getFamily(familyOf(body.refresh_token), clock.now());
      expect(JSON.stringify(family)).not.toContain(secret);
      expect(deps.logs.text()).not.toContain(secret);
    });

    it('gives no refresh token to a client not allowed the refresh_token grant', async () => {
      const res = await token({ grant_type: 'password', username: 'alice', password: 'alice-password' }, { Authorization: basic('weird.id~_-', 'a:secret with spaces & symbols %+/ 0123456789') });
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('refresh_token');
    });

    it('never gives a refresh token for client_credentials', async () => {
      const res = await token({ grant_type: 'client_credentials' }, { Authorization: basic('service', SERVICE_SECRET) });
      expect(res.body).not.toHaveProperty('refresh_token');
    });
  });

  describe('rotation', () => {
    it('returns a new access token and a new refresh token of the same family', async () => {
      const first = await login();
      const res = await refresh(first.refresh_token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'items:read items:write', refresh_token: expect.any(String) });
      expect(res.body.refresh_token).not.toBe(first.refresh_token);
      expect(familyOf(res.body.refresh_token)).toBe(familyOf(first.refresh_token));
      const claims = await verifyAccessToken({ app, deps }, res.body.access_token);
      expect(claims).toMatchObject({ sid: familyOf(first.refresh_token), username: 'alice', client_id: 'spa', scope: 'items:read items:write' });
      expect((await refresh(res.body.refresh_token)).status).toBe(200);
    });

    it('retried within the grace window, returns the same successor and keeps the family', async () => {
      const first = await login();
      const a = await refresh(first.refresh_token);
      clock.advanceSeconds(4);
      const b = await refresh(first.refresh_token);
      expect(b.status).toBe(200);
      expect(b.body.refresh_token).toBe(a.body.refresh_token);
      expect(b.body.access_token).not.toBe(a.body.access_token);
      expect((await refresh(b.body.refresh_token)).status).toBe(200);
    });

    it('treats a stale token after the window as theft: the whole family is revoked and audited', async () => {
      const first = await login();
      const second = (await refresh(first.refresh_token)).body.refresh_token as string;
      clock.advanceSeconds(6);
      const replay = await refresh(first.refresh_token, {});
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual(INVALID);
      // The legitimate holder's current token dies with the family.
      expect((await refresh(second)).body).toEqual(INVALID);
      const alice = await findUserByUsername(deps.db, 'alice');
      const audit = deps.logs.events('refresh.reuse_detected').find((e) => e.familyId === familyOf(first.refresh_token));
      expect(audit).toMatchObject({ level: 'warn', userId: alice!.id, clientId: 'spa', ip: expect.any(String) });
      expect(JSON.stringify(audit)).not.toContain(first.refresh_token.split('.')[1]);
      // Access tokens of the family are revoked in the state introspection reads.
      const state = await deps.revocations.revocationState('any-jti', alice!.id, Math.floor(clock.now() / 1000), familyOf(first.refresh_token));
      expect(state.familyRevoked).toBe(true);
    });

    it('treats any older generation as theft, not only the previous one', async () => {
      const t0 = (await login()).refresh_token;
      const t1 = (await refresh(t0)).body.refresh_token as string;
      clock.advanceSeconds(6);
      const t2 = (await refresh(t1)).body.refresh_token as string;
      clock.advanceSeconds(6);
      expect((await refresh(t2)).status).toBe(200);
      expect((await refresh(t0)).body).toEqual(INVALID);
      expect(deps.logs.events('refresh.reuse_detected').some((e) => e.familyId === familyOf(t0))).toBe(true);
    });

    it('refuses a token with a right family but a made-up secret, without revoking the family', async () => {
      const first = await login();
      const forged = `${familyOf(first.refresh_token)}.${'A'.repeat(43)}`;
      expect((await refresh(forged)).body).toEqual(INVALID);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    it.each([
      ['garbage', 'not-a-refresh-token'],
      ['an unknown family', `${'B'.repeat(22)}.${'C'.repeat(43)}`],
      ['an access token', 'eyJhbGciOiJFUzI1NiJ9.e30.sig'],
    ])('answers invalid_grant for %s', async (_name, value) => {
      const res = await refresh(value);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
    });

    it('answers invalid_request when refresh_token is missing', async () => {
      const res = await token({ grant_type: 'refresh_token', client_id: 'spa' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });
  });

  describe('binding and scope', () => {
    it("refuses another client's presentation and leaves the family usable by its own", async () => {
      const first = await login();
      const res = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, { Authorization: basic('weird.id~_-', 'a:secret with spaces & symbols %+/ 0123456789') });
      // weird.id~_- is not allowed the refresh_token grant at all.
      expect(res.body.error).toBe('unauthorized_client');
      const other = await token({ grant_type: 'refresh_token', client_id: 'mobile', refresh_token: first.refresh_token });
      expect(other.status).toBe(400);
      expect(other.body).toEqual(INVALID);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    it('narrows scope on request, and the family keeps its full scope for later refreshes', async () => {
      const first = await login();
      const narrow = await refresh(first.refresh_token, { scope: 'items:read' });
      expect(narrow.status).toBe(200);
      expect(narrow.body.scope).toBe('items:read');
      expect((await verifyAccessToken({ app, deps }, narrow.body.access_token)).scope).toBe('items:read');
      const full = await refresh(narrow.body.refresh_token);
      expect(full.body.scope).toBe('items:read items:write');
    });

    it('refuses to widen scope, without using up the token', async () => {
      const first = await login('alice', 'alice-password', { scope: 'items:read' });
      const wide = await refresh(first.refresh_token, { scope: 'items:read items:write' });
      expect(wide.status).toBe(400);
      expect(wide.body).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed: items:write' });
      clock.advanceSeconds(60);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    it('refuses a resource other than the login audience, without using up the token', async () => {
      const first = await login();
      const res = await refresh(first.refresh_token, { resource: 'https://items.example.test' });
      expect(res.body.error).toBe('invalid_target');
      clock.advanceSeconds(60);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    // The family id is every access token's `sid`: no secret. Whatever a presentation asks,
    // only the token's own secret earns an answer about scope or resource (RFC 6749 §5.2).
    it.each([
      ['a wider scope', { scope: 'items:read items:write' }],
      ['a narrower scope', { scope: 'items:read' }],
      ['a malformed scope', { scope: 'items"read' }],
      ['another resource', { resource: 'https://items.example.test' }],
      ["the login's resource", { resource: 'https://api.example.test' }],
      ['a scope and a resource', { scope: 'items:read items:write', resource: 'https://items.example.test' }],
    ])('answers a right family with a made-up secret invalid_grant when it asks %s, and leaves the family usable', async (_name, extra) => {
      const first = await login('alice', 'alice-password', { scope: 'items:read' });
      const forged = `${familyOf(first.refresh_token)}.${'A'.repeat(43)}`;
      const res = await refresh(forged, extra);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    it('treats a used token asking a wider scope as theft, not as a scope question', async () => {
      const first = await login('alice', 'alice-password', { scope: 'items:read' });
      const second = (await refresh(first.refresh_token)).body.refresh_token as string;
      clock.advanceSeconds(6);
      const res = await refresh(first.refresh_token, { scope: 'items:read items:write', resource: 'https://items.example.test' });
      expect(res.body).toEqual(INVALID);
      expect(deps.logs.events('refresh.reuse_detected').some((e) => e.familyId === familyOf(first.refresh_token))).toBe(true);
      expect((await refresh(second)).body).toEqual(INVALID);
    });

    it('answers invalid_scope to the previous token retried inside the grace window, keeping its successor', async () => {
      const first = await login('alice', 'alice-password', { scope: 'items:read' });
      const second = (await refresh(first.refresh_token)).body.refresh_token as string;
      clock.advanceSeconds(2);
      const wide = await refresh(first.refresh_token, { scope: 'items:read items:write' });
      expect(wide.body).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed: items:write' });
      expect((await refresh(first.refresh_token, { resource: 'https://items.example.test' })).body.error).toBe('invalid_target');
      expect((await refresh(second)).status).toBe(200);
    });

    it("refuses another client's presentation asking a wider scope with invalid_grant", async () => {
      const first = await login('alice', 'alice-password', { scope: 'items:read' });
      const other = await token({ grant_type: 'refresh_token', client_id: 'mobile', refresh_token: first.refresh_token, scope: 'items:read items:write' });
      expect(other.body).toEqual(INVALID);
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });

    it('drops a scope taken away through the API from the next access token, reading no database', async () => {
      const first = await login();
      const alice = (await findUserByUsername(deps.db, 'alice'))!;
      await changeUser(deps, alice.id, { scopes: ['items:read', 'users:read'], roles: ['moderator'] });
      try {
        const queries = countQueries();
        const res = await refresh(first.refresh_token);
        expect(queries.stop()).toBe(0);
        expect(res.status).toBe(200);
        expect(res.body.scope).toBe('items:read items:write');
        const claims = await verifyAccessToken({ app, deps }, res.body.access_token);
        // items:write now comes from the moderator role, and the token says so.
        expect(claims.roles).toEqual(['moderator']);
        await changeUser(deps, alice.id, { roles: [] });
        expect((await refresh(res.body.refresh_token)).body.scope).toBe('items:read');
      } finally {
        await changeUser(deps, alice.id, { scopes: alice.scopes, roles: alice.roles });
      }
    });

    it('sees a change made directly in the database once the snapshot is older than REFRESH_SUBJECT_MAX_AGE', async () => {
      const first = await login();
      const alice = (await findUserByUsername(deps.db, 'alice'))!;
      await deps.db('user_scopes').where({ user_id: alice.id, scope: 'items:write' }).delete();
      try {
        // Within the max age the family's snapshot stands: the documented bound.
        const second = await refresh(first.refresh_token);
        expect(second.body.scope).toBe('items:read items:write');
        clock.advanceSeconds(HOUR);
        const queries = countQueries();
        const third = await refresh(second.body.refresh_token);
        expect(queries.stop()).toBe(1);
        expect(third.body.scope).toBe('items:read');
        // Read once, written back: the next rotation reads nothing again.
        const again = countQueries();
        expect((await refresh(third.body.refresh_token)).body.scope).toBe('items:read');
        expect(again.stop()).toBe(0);
      } finally {
        await deps.db('user_scopes').insert({ user_id: alice.id, scope: 'items:write' });
      }
    });
  });

  describe('the user behind the family', () => {
    /** Runs `change` inside the login, after it read the user and before its family is written. */
    const duringLogin = async (change: () => Promise<unknown>, login: () => Promise<request.Response>) => {
      const createFamily = deps.families.createFamily.bind(deps.families);
      deps.families.createFamily = async (...args) => {
        await change();
        return createFamily(...args);
      };
      try {
        return await login();
      } finally {
        deps.families.createFamily = createFamily;
      }
    };
    const loginAs = (username: string, scope = 'items:read items:write') => () => token({ grant_type: 'password', client_id: 'spa', username, password: `${username}-password`, scope });

    it('a login racing a scope removal still carries the removal into its family', async () => {
      const alice = (await findUserByUsername(deps.db, 'alice'))!;
      try {
        const res = await duringLogin(() => changeUser(deps, alice.id, { scopes: ['items:read', 'users:read'] }), loginAs('alice'));
        expect(res.status).toBe(200);
        // Neither the login's own access token nor the answer claims the removed scope.
        expect(res.body.scope).toBe('items:read');
        expect((await verifyAccessToken({ app, deps }, res.body.access_token)).scope).toBe('items:read');
        const family = await deps.families.getFamily(familyOf(res.body.refresh_token), clock.now());
        expect(family?.subject?.scopes).not.toContain('items:write');
        expect((await refresh(res.body.refresh_token)).body.scope).toBe('items:read');
      } finally {
        await changeUser(deps, alice.id, { scopes: alice.scopes });
      }
    });

    it('a login racing the user being disabled ends its family and fails', async () => {
      try {
        const res = await duringLogin(() => setUserDisabled(deps, 'mod', true), loginAs('mod', 'items:read'));
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_grant');
        const mod = (await findUserByUsername(deps.db, 'mod'))!;
        expect(await deps.families.listFamilies(mod.id, clock.now())).toEqual([]);
      } finally {
        await setUserDisabled(deps, 'mod', false);
      }
    });

    it('ends every session of a disabled user, for good', async () => {
      const first = await login('mod', 'mod-password', { scope: 'items:read' });
      await setUserDisabled(deps, 'mod', true);
      await setUserDisabled(deps, 'mod', false);
      expect((await refresh(first.refresh_token)).body).toEqual(INVALID);
    });

    it('ends every session when the password changes', async () => {
      const first = await login('mod', 'mod-password', { scope: 'items:read' });
      clock.advanceSeconds(1);
      await setUserPassword(deps, 'mod', 'mod-password');
      expect((await refresh(first.refresh_token)).body).toEqual(INVALID);
      expect((await login('mod', 'mod-password', { scope: 'items:read' })).refresh_token).toBeDefined();
    });

    it('revokes the family when the user was disabled behind the service’s back (database only), within REFRESH_SUBJECT_MAX_AGE', async () => {
      const first = await login('mod', 'mod-password', { scope: 'items:read' });
      await deps.db('users').where({ username: 'mod' }).update({ disabled: true });
      try {
        const second = await refresh(first.refresh_token);
        expect(second.status).toBe(200);
        clock.advanceSeconds(HOUR);
        expect((await refresh(second.body.refresh_token)).body).toEqual(INVALID);
      } finally {
        await deps.db('users').where({ username: 'mod' }).update({ disabled: false });
      }
      expect((await deps.families.getFamily(familyOf(first.refresh_token), clock.now()))?.revoked).toBe(true);
      expect((await refresh(first.refresh_token)).body).toEqual(INVALID);
    });
  });

  describe('lifetimes', () => {
    it('expires after the idle lifetime without use', async () => {
      const first = await login();
      clock.advanceSeconds(7 * DAY + 1);
      expect((await refresh(first.refresh_token)).body).toEqual(INVALID);
    });

    it('extends the idle lifetime on each use, but never past the absolute lifetime', async () => {
      let current = (await login()).refresh_token;
      for (let day = 6; day < 30; day += 6) {
        clock.advanceSeconds(6 * DAY);
        const res = await refresh(current);
        expect(res.status).toBe(200);
        current = res.body.refresh_token;
      }
      clock.advanceSeconds(6 * DAY); // day 30: past the absolute end, though used 6 days ago
      expect((await refresh(current)).body).toEqual(INVALID);
    });
  });
});

describe('refresh_token grant with the grace window off', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  beforeAll(async () => {
    ({ deps, app } = await oauthFixture({ REFRESH_REUSE_GRACE: '0' }));
  });
  afterAll(async () => deps.cleanup());

  it('treats an immediate second presentation as theft', async () => {
    const post = (form: Record<string, string>) => request(app.callback()).post('/oauth/token').type('form').send(form);
    const first = (await post({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' })).body.refresh_token as string;
    const second = await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first });
    expect(second.status).toBe(200);
    expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).body.error).toBe('invalid_grant');
    expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: second.body.refresh_token })).body.error).toBe('invalid_grant');
  });
});

describe('session limit per user and client', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  beforeAll(async () => {
    ({ deps, app } = await oauthFixture({ MAX_SESSIONS_PER_USER: '2' }));
  });
  afterAll(async () => deps.cleanup());

  it('ends the oldest login when a new one goes past MAX_SESSIONS_PER_USER', async () => {
    const post = (form: Record<string, string>) => request(app.callback()).post('/oauth/token').type('form').send(form);
    const loginForm = { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' };
    const tokens: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      tokens.push((await post(loginForm)).body.refresh_token as string);
      (deps.clock as FakeClock).advance(10);
    }
    expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens[0]! })).body.error).toBe('invalid_grant');
    expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens[1]! })).status).toBe(200);
    expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens[2]! })).status).toBe(200);
    expect(deps.logs.events('session.evicted')).toHaveLength(1);
  });
});
