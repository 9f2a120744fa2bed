import request from 'supertest';
import type { AnyEvent } from '../../src/events/catalogue';
import { createClient, deleteClient } from '../../src/identity/clients';
import { findConsent, revokeConsent } from '../../src/identity/consents';
import { findUserByUsername } from '../../src/identity/users';
import { registerUser, setUserDisabled } from '../../src/identity/user-lifecycle';
import { createApp } from '../../src/http/app';
import { Passwords, rustArgon2 } from '../../src/identity/passwords';
import { FakeClock } from '../support/clock';
import { authorizeUrl, Browser, callbackParams, formFields, pkce, type Pkce } from '../support/browser-flow';
import { ISSUER, oauthFixture, RS_SECRET, basic } from '../support/oauth-fixture';
import { storeKinds } from '../support/env';

const APP = 'https://app.example.test/callback';
const APP_ORIGIN = 'https://app.example.test';
const SIGNED_OUT = 'https://app.example.test/signed-out';

describe.each(storeKinds())('RFC 6749 §4.1 authorization code with PKCE (%s store)', (store) => {
  const clock = new FakeClock();
  let fixture: Awaited<ReturnType<typeof oauthFixture>>;

  beforeAll(async () => {
    fixture = await oauthFixture({}, { store, clock });
    const now = new Date(clock.now());
    const { db } = fixture.deps;
    await createClient(db, { id: 'web', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:*', 'users:read'], defaultScopes: ['items:read'], audiences: ['https://items.example.test'], redirectUris: [APP, 'com.example.app:/cb'], postLogoutRedirectUris: [SIGNED_OUT], corsOrigins: [APP_ORIGIN] }, now);
    await createClient(db, { id: 'other', type: 'public', grantTypes: ['authorization_code'], scopes: ['items:read'], redirectUris: ['https://other.example.test/cb'] }, now);
    await createClient(db, { id: 'first-party', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:read'], defaultScopes: ['items:read'], redirectUris: [APP], corsOrigins: [APP_ORIGIN], refreshTokenInCookie: true }, now);
    await createClient(db, { id: 'long-lived', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:read'], redirectUris: [APP], refreshTokenTtlSec: 86400, refreshIdleTtlSec: 7200 }, now);
    await registerUser(fixture.deps, { username: 'carol', password: 'carol-password', scopes: ['items:read', 'users:read:own'] });
    await createClient(db, { id: 'third', type: 'public', grantTypes: ['authorization_code'], scopes: ['items:read', 'users:read:own'], defaultScopes: ['items:read'], audiences: [ISSUER], redirectUris: ['https://third.example.test/cb'], requireConsent: true }, now);
    await createClient(db, { id: 'partner', name: 'Partner app', type: 'public', grantTypes: ['authorization_code'], scopes: ['items:read'], defaultScopes: ['items:read'], redirectUris: ['https://partner.example.test/cb'], requireConsent: true }, now);
  });
  afterAll(async () => fixture.deps.cleanup());

  const token = (form: Record<string, string>, authorization?: string) => {
    const pending = request(fixture.app.callback()).post('/oauth/token').type('form').send(form);
    return authorization ? pending.set('Authorization', authorization) : pending;
  };
  const params = (code: Pkce, extra: Record<string, string | undefined> = {}) => ({ response_type: 'code', client_id: 'web', redirect_uri: APP, state: 'st-1', code_challenge: code.challenge, code_challenge_method: 'S256', ...extra });

  /** Signs in on the login page; returns the response to the form post. */
  async function signIn(browser: Browser, query: Record<string, string | undefined>, password = 'alice-password', username = 'alice') {
    const page = await browser.get(authorizeUrl(query));
    expect(page.status).toBe(200);
    return browser.post('/oauth/login', { ...formFields(page.text), username, password });
  }

  async function codeFor(browser: Browser, code: Pkce, extra: Record<string, string | undefined> = {}) {
    const answer = await signIn(browser, params(code, extra));
    expect(answer.status).toBe(303);
    return callbackParams(answer).get('code')!;
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) => token({ grant_type: 'authorization_code', code, redirect_uri: APP, code_verifier: verifier, client_id: 'web', ...extra });
  const introspect = (accessToken: string) => request(fixture.app.callback()).post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token: accessToken });

  describe('client and redirect URI (§4.1.2.1: never redirect to an unverified URI)', () => {
    it.each([
      ['an unknown client', { client_id: 'nobody' }],
      ['a client without the code grant', { client_id: 'spa' }],
      ['an unregistered redirect URI', { redirect_uri: 'https://evil.example.test/callback' }],
      ['a redirect URI with a trailing slash', { redirect_uri: `${APP}/` }],
      ['a redirect URI that is a prefix', { redirect_uri: 'https://app.example.test/call' }],
      ['a redirect URI differing in case', { redirect_uri: 'https://APP.example.test/callback' }],
      ['no redirect URI', { redirect_uri: undefined }],
      ['a repeated client_id', {}],
    ])('shows a 400 page for %s and does not redirect', async (label, extra) => {
      const url = label === 'a repeated client_id' ? `${authorizeUrl(params(pkce()))}&client_id=web` : authorizeUrl(params(pkce(), extra));
      const answer = await new Browser(fixture.app).get(url);
      expect(answer.status).toBe(400);
      expect(answer.headers.location).toBeUndefined();
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.text).not.toContain('evil.example.test');
    });
  });

  describe('errors sent back to the app with state and iss (RFC 9207)', () => {
    it.each([
      ['no code_challenge', { code_challenge: undefined }, 'invalid_request'],
      ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['no code_challenge_method', { code_challenge_method: undefined }, 'invalid_request'],
      ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['a scope beyond the client', { scope: 'admin' }, 'invalid_scope'],
      ['a resource the client may not name', { resource: 'https://evil.example.test' }, 'invalid_target'],
      ['prompt=none with no session', { prompt: 'none' }, 'login_required'],
      ['an unknown prompt', { prompt: 'dance' }, 'invalid_request'],
      ['a request object', { request: 'eyJ' }, 'request_not_supported'],
    ])('%s', async (_label, extra, error) => {
      const answer = await new Browser(fixture.app).get(authorizeUrl(params(pkce(), extra)));
      expect(answer.status).toBe(303);
      expect(answer.headers.location!.startsWith(`${APP}?`)).toBe(true);
      const back = callbackParams(answer);
      expect(back.get('error')).toBe(error);
      expect(back.get('state')).toBe('st-1');
      expect(back.get('iss')).toBe(ISSUER);
      expect(back.get('code')).toBeNull();
    });

    it('refuses a repeated parameter (§3.1)', async () => {
      const answer = await new Browser(fixture.app).get(`${authorizeUrl(params(pkce()))}&scope=items:read&scope=items:write`);
      expect(callbackParams(answer).get('error')).toBe('invalid_request');
    });
  });

  describe('hosted login page', () => {
    it('is plain HTML with the headers a login form needs and no CORS', async () => {
      const answer = await request(fixture.app.callback()).get(authorizeUrl(params(pkce()))).set('Origin', APP_ORIGIN);
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(/<label for="username">/);
      expect(answer.text).toMatch(/name="username"/);
      expect(answer.text).toMatch(/name="password"/);
      expect(answer.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(answer.headers['content-security-policy']).toMatch(/form-action 'self' https:\/\/app\.example\.test/);
      expect(answer.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(answer.headers['set-cookie']?.[0]).toMatch(/^__Host-portcullis_form=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    });

    it('escapes what it echoes', async () => {
      const answer = await new Browser(fixture.app).get(authorizeUrl(params(pkce(), { login_hint: '"><script>alert(1)</script>' })));
      expect(answer.text).not.toContain('<script>');
      expect(answer.text).toContain('&quot;&gt;&lt;script&gt;');
    });

    it('answers a wrong password and an unknown user with the same form and message', async () => {
      const wrong = await signIn(new Browser(fixture.app), params(pkce()), 'not-the-password');
      const unknown = await signIn(new Browser(fixture.app), params(pkce()), 'whatever-password', 'nobody-here');
      for (const answer of [wrong, unknown]) {
        expect(answer.status).toBe(200);
        expect(answer.text).toContain('role="alert"');
        expect(answer.text).toContain('The username or password is not right.');
        expect(String(answer.headers['set-cookie'] ?? '')).not.toContain('__Host-portcullis_session=');
      }
    });

    it('refuses a post without the CSRF token, from another origin, or with another request\'s token', async () => {
      const browser = new Browser(fixture.app);
      const page = await browser.get(authorizeUrl(params(pkce())));
      const fields = formFields(page.text);
      const credentials = { username: 'alice', password: 'alice-password' };
      expect((await browser.post('/oauth/login', { request: fields.request!, ...credentials })).status).toBe(403);
      expect((await browser.post('/oauth/login', { ...fields, ...credentials }, 'https://evil.example.test')).status).toBe(403);
      const other = formFields((await browser.get(authorizeUrl(params(pkce(), { state: 'other' })))).text);
      expect((await browser.post('/oauth/login', { request: fields.request!, csrf: other.csrf!, ...credentials })).status).toBe(403);
      // Another browser (another form key) cannot use this browser's token.
      const stranger = new Browser(fixture.app);
      await stranger.get(authorizeUrl(params(pkce())));
      expect((await stranger.post('/oauth/login', { ...fields, ...credentials })).status).toBe(403);
    });

    it('signs in with 303 (never 307), a session cookie, and a code with state and iss', async () => {
      const answer = await signIn(new Browser(fixture.app), params(pkce()));
      expect(answer.status).toBe(303);
      const back = callbackParams(answer);
      expect(back.get('code')).toMatch(/^[\w-]{43}$/);
      expect(back.get('state')).toBe('st-1');
      expect(back.get('iss')).toBe(ISSUER);
      const session = (answer.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith('__Host-portcullis_session='));
      expect(session).toMatch(/^__Host-portcullis_session=[\w-]{45}; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    });
  });

  describe('token request (§4.1.3, RFC 7636 §4.6)', () => {
    it('issues an access token and a refresh token for the code and its verifier', async () => {
      const code = pkce();
      const answer = await exchange(await codeFor(new Browser(fixture.app), code), code.verifier);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'items:read', refresh_token: expect.any(String) });
      expect((await introspect(answer.body.access_token)).body).toMatchObject({ active: true, client_id: 'web', username: 'alice' });
    });

    it.each([
      ['a wrong verifier', (code: string) => exchange(code, pkce().verifier)],
      ['another redirect_uri', (code: string, verifier: string) => exchange(code, verifier, { redirect_uri: 'com.example.app:/cb' })],
      ['another client', (code: string, verifier: string) => exchange(code, verifier, { client_id: 'other', redirect_uri: 'https://other.example.test/cb' })],
    ])('refuses %s with invalid_grant, and the code still works for its client', async (_label, send) => {
      const code = pkce();
      const value = await codeFor(new Browser(fixture.app), code);
      const answer = await send(value, code.verifier);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_grant');
      // Without the verifier nobody can spend the code, nor revoke what it gives (§4.1.2 replay).
      const real = await exchange(value, code.verifier);
      expect(real.status).toBe(200);
      await send(value, code.verifier);
      expect((await introspect(real.body.access_token)).body.active).toBe(true);
    });

    it('refuses a code whose browser session was signed out before the exchange', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const value = await codeFor(browser, code);
      const confirm = await browser.get('/oauth/logout');
      await browser.post('/oauth/logout', formFields(confirm.text));
      expect((await exchange(value, code.verifier)).body.error).toBe('invalid_grant');
    });

    it('refuses a missing verifier with invalid_request', async () => {
      const code = pkce();
      const answer = await token({ grant_type: 'authorization_code', code: await codeFor(new Browser(fixture.app), code), redirect_uri: APP, client_id: 'web' });
      expect(answer.body.error).toBe('invalid_request');
    });

    it('refuses an expired code', async () => {
      const code = pkce();
      const value = await codeFor(new Browser(fixture.app), code);
      clock.advanceSeconds(61);
      expect((await exchange(value, code.verifier)).body.error).toBe('invalid_grant');
    });

    it('refuses a second use and revokes what the first use issued (§4.1.2)', async () => {
      const code = pkce();
      const value = await codeFor(new Browser(fixture.app), code);
      const first = await exchange(value, code.verifier);
      expect(first.status).toBe(200);
      const second = await exchange(value, code.verifier);
      expect(second.status).toBe(400);
      expect(second.body.error).toBe('invalid_grant');
      expect((await introspect(first.body.access_token)).body).toEqual({ active: false });
      expect((await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'web' })).body.error).toBe('invalid_grant');
      expect(fixture.deps.logs.events('code.replayed').length).toBeGreaterThan(0);
    });

    it('leaves nothing usable after a burst of concurrent uses of one code', async () => {
      const code = pkce();
      const value = await codeFor(new Browser(fixture.app), code);
      const answers = await Promise.all(Array.from({ length: 8 }, () => exchange(value, code.verifier)));
      const issued = answers.filter((answer) => answer.status === 200);
      expect(issued.length).toBeLessThanOrEqual(1);
      expect(answers.filter((answer) => answer.status === 400 && answer.body.error === 'invalid_grant')).toHaveLength(8 - issued.length);
      // The code was used more than once: whatever one use got is revoked (§4.1.2).
      for (const { body } of issued) {
        expect((await introspect(body.access_token)).body).toEqual({ active: false });
        expect((await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: 'web' })).body.error).toBe('invalid_grant');
      }
    });
  });

  describe('browser session (single sign-on, prompt)', () => {
    it('answers a second authorization at once, for another client too', async () => {
      const browser = new Browser(fixture.app);
      await codeFor(browser, pkce());
      const again = await browser.get(authorizeUrl(params(pkce(), { state: 'two' })));
      expect(again.status).toBe(303);
      expect(callbackParams(again).get('code')).toMatch(/^[\w-]{43}$/);
      const other = await browser.get(authorizeUrl({ ...params(pkce()), client_id: 'other', redirect_uri: 'https://other.example.test/cb' }));
      expect(other.status).toBe(303);
      expect(other.headers.location).toMatch(/^https:\/\/other\.example\.test\/cb\?code=/);
    });

    it('shows the form for prompt=login even with a session', async () => {
      const browser = new Browser(fixture.app);
      await codeFor(browser, pkce());
      const again = await browser.get(authorizeUrl(params(pkce(), { prompt: 'login' })));
      expect(again.status).toBe(200);
      expect(again.text).toContain('name="password"');
      const silent = await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })));
      expect(callbackParams(silent).get('code')).toMatch(/^[\w-]{43}$/);
    });

    it('keeps the browser\'s session when a fresh sign-in ends in an error for the app', async () => {
      const browser = new Browser(fixture.app);
      await codeFor(browser, pkce());
      const before = browser.cookies.get('__Host-portcullis_session');
      // The client may ask items:delete, alice does not hold it: the sign-in succeeds, the request then fails.
      const failed = await signIn(browser, params(pkce(), { prompt: 'login', scope: 'items:delete' }));
      expect(callbackParams(failed).get('error')).toBe('invalid_scope');
      expect(browser.cookies.get('__Host-portcullis_session')).toBe(before);
      expect(callbackParams(await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).get('code')).toMatch(/^[\w-]{43}$/);
    });

    it('keeps a second sign-in of the same user in the same session, so logout still ends the first login', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const first = (await exchange(await codeFor(browser, code), code.verifier)).body;
      const session = browser.cookies.get('__Host-portcullis_session');
      const again = await signIn(browser, params(pkce(), { prompt: 'login' }));
      expect(again.status).toBe(303);
      expect(browser.cookies.get('__Host-portcullis_session')).toBe(session);
      const out = await browser.post('/oauth/logout', { client_id: 'web' }, APP_ORIGIN);
      expect(out.status).toBe(200);
      expect((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'web' })).body.error).toBe('invalid_grant');
    });

    it('ends the previous user\'s session and logins when another user signs in on the browser', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const alices = (await exchange(await codeFor(browser, code), code.verifier)).body;
      const before = browser.cookies.get('__Host-portcullis_session');
      const mod = await signIn(browser, params(pkce(), { prompt: 'login', scope: undefined }), 'mod-password', 'mod');
      expect(mod.status).toBe(303);
      expect(browser.cookies.get('__Host-portcullis_session')).not.toBe(before);
      expect((await token({ grant_type: 'refresh_token', refresh_token: alices.refresh_token, client_id: 'web' })).body.error).toBe('invalid_grant');
      const stale = new Browser(fixture.app);
      stale.cookies.set('__Host-portcullis_session', before!);
      expect(callbackParams(await stale.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).get('error')).toBe('login_required');
    });

    it('refuses the code of a user disabled between the code and the exchange', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const value = await codeFor(browser, code);
      const alice = (await findUserByUsername(fixture.deps.db, 'alice'))!;
      await setUserDisabled(fixture.deps, { id: alice.id }, true);
      try {
        expect((await exchange(value, code.verifier)).body.error).toBe('invalid_grant');
      } finally {
        await setUserDisabled(fixture.deps, { id: alice.id }, false);
      }
    });

    it('ends when the user is disabled', async () => {
      const browser = new Browser(fixture.app);
      await codeFor(browser, pkce());
      const alice = (await findUserByUsername(fixture.deps.db, 'alice'))!;
      await setUserDisabled(fixture.deps, { id: alice.id }, true);
      try {
        const again = await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })));
        expect(callbackParams(again).get('error')).toBe('login_required');
      } finally {
        await setUserDisabled(fixture.deps, { id: alice.id }, false);
      }
    });
  });

  describe('consent', () => {
    const partner = (code: Pkce) => ({ response_type: 'code', client_id: 'partner', redirect_uri: 'https://partner.example.test/cb', state: 'p', code_challenge: code.challenge, code_challenge_method: 'S256' });

    it('asks once, remembers yes, and sends access_denied for no', async () => {
      const browser = new Browser(fixture.app);
      const page = await signIn(browser, partner(pkce()));
      expect(page.status).toBe(200);
      expect(page.text).toContain('Partner app');
      expect(page.text).toContain('<code>items:read</code>');
      const denied = await browser.post('/oauth/consent', { ...formFields(page.text), decision: 'deny' });
      expect(callbackParams(denied).get('error')).toBe('access_denied');
      expect(callbackParams(denied).get('state')).toBe('p');

      const asked = await browser.get(authorizeUrl(partner(pkce())));
      expect(asked.status).toBe(200);
      const none = await browser.get(authorizeUrl({ ...partner(pkce()), prompt: 'none' }));
      expect(callbackParams(none).get('error')).toBe('consent_required');
      const allowed = await browser.post('/oauth/consent', { ...formFields(asked.text), decision: 'allow' });
      expect(callbackParams(allowed).get('code')).toMatch(/^[\w-]{43}$/);
      const remembered = await browser.get(authorizeUrl(partner(pkce())));
      expect(remembered.status).toBe(303);
      expect(callbackParams(remembered).get('code')).toMatch(/^[\w-]{43}$/);
      // prompt=consent asks again (OpenID Connect Core §3.1.2.1), also after a fresh sign-in.
      expect((await browser.get(authorizeUrl({ ...partner(pkce()), prompt: 'consent' }))).text).toContain('Allow access?');
      expect((await signIn(browser, { ...partner(pkce()), prompt: 'login consent' })).text).toContain('Allow access?');
    });

    it('refuses a code whose consent was withdrawn before the exchange', async () => {
      const alice = (await findUserByUsername(fixture.deps.db, 'alice'))!;
      await revokeConsent(fixture.deps.db, alice.id, 'partner');
      const browser = new Browser(fixture.app);
      const code = pkce();
      const page = await signIn(browser, partner(code));
      const allowed = await browser.post('/oauth/consent', { ...formFields(page.text), decision: 'allow' });
      const value = callbackParams(allowed).get('code')!;
      await revokeConsent(fixture.deps.db, alice.id, 'partner');
      const answer = await token({ grant_type: 'authorization_code', code: value, redirect_uri: 'https://partner.example.test/cb', code_verifier: code.verifier, client_id: 'partner' });
      expect(answer.body.error).toBe('invalid_grant');
    });

    it('says who and from where on each browser step: browser_session.started, consent.granted, code.issued and browser_session.ended carry the request id and address', async () => {
      const alice = (await findUserByUsername(fixture.deps.db, 'alice'))!;
      await revokeConsent(fixture.deps.db, alice.id, 'partner');
      const seen: AnyEvent[] = [];
      const stop = fixture.deps.events.onAny((event) => seen.push(event));
      try {
        const browser = new Browser(fixture.app);
        const page = await signIn(browser, partner(pkce()));
        const allowed = await browser.post('/oauth/consent', { ...formFields(page.text), decision: 'allow' });
        expect(callbackParams(allowed).get('code')).toEqual(expect.any(String));
        const confirm = await browser.get('/oauth/logout');
        await browser.post('/oauth/logout', formFields(confirm.text));
      } finally {
        stop();
      }
      const names = ['browser_session.started', 'consent.granted', 'code.issued', 'browser_session.ended'];
      const steps = seen.filter((event) => names.includes(event.name));
      expect(steps.map((event) => event.name)).toEqual(names);
      for (const step of steps) expect(step.payload).toMatchObject({ requestId: expect.stringMatching(/.+/), ip: expect.stringMatching(/.+/) });
    });

    it('asks again when the scope grew after the page was shown, and refuses a forged shown scope', async () => {
      const { db } = fixture.deps;
      await createClient(db, { id: 'grow', type: 'public', grantTypes: ['authorization_code'], scopes: ['items:read', 'reports:read'], defaultScopes: ['items:read', 'reports:read'], redirectUris: ['https://grow.example.test/cb'], requireConsent: true }, new Date(clock.now()));
      const browser = new Browser(fixture.app);
      const query = { response_type: 'code', client_id: 'grow', redirect_uri: 'https://grow.example.test/cb', code_challenge: pkce().challenge, code_challenge_method: 'S256' };
      // alice holds items:read, not reports:read: the page shows items:read only.
      const page = await signIn(browser, query);
      const fields = formFields(page.text);
      expect(fields.shown).toBe('items:read');
      // The form is the browser's to change, but the token covers what was shown.
      expect((await browser.post('/oauth/consent', { ...fields, shown: 'items:read reports:read', decision: 'allow' })).status).toBe(403);
      const alice = (await findUserByUsername(db, 'alice'))!;
      await db('user_scopes').insert({ user_id: alice.id, scope: 'reports:read' });
      try {
        const again = await browser.post('/oauth/consent', { ...fields, decision: 'allow' });
        expect(again.status).toBe(200);
        expect(again.text).toContain('<code>reports:read</code>');
        expect(await findConsent(db, alice.id, 'grow')).toBeUndefined();
      } finally {
        await db('user_scopes').where({ user_id: alice.id, scope: 'reports:read' }).delete();
      }
    });

    it('refuses a consent post without its CSRF token', async () => {
      await revokeConsent(fixture.deps.db, (await findUserByUsername(fixture.deps.db, 'alice'))!.id, 'partner');
      const browser = new Browser(fixture.app);
      const page = await signIn(browser, partner(pkce()));
      const { request: carried } = formFields(page.text);
      expect((await browser.post('/oauth/consent', { request: carried!, decision: 'allow' })).status).toBe(403);
    });
  });

  describe('the account API for a third-party client', () => {
    async function thirdPartyToken(scope: string): Promise<string> {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const query = { response_type: 'code', client_id: 'third', redirect_uri: 'https://third.example.test/cb', scope, resource: ISSUER, code_challenge: code.challenge, code_challenge_method: 'S256' };
      const consent = await signIn(browser, query, 'carol-password', 'carol');
      const allowed = await browser.post('/oauth/consent', { ...formFields(consent.text), decision: 'allow' });
      const answer = await token({ grant_type: 'authorization_code', code: callbackParams(allowed).get('code')!, redirect_uri: 'https://third.example.test/cb', code_verifier: code.verifier, client_id: 'third' });
      expect(answer.status).toBe(200);
      return answer.body.access_token as string;
    }
    const me = (method: 'get' | 'patch', accessToken: string) => request(fixture.app.callback())[method]('/users/me').set('Authorization', `Bearer ${accessToken}`).send(method === 'patch' ? { email: 'attacker@evil.example.test' } : undefined);

    it('reaches nothing of the account with a scope approved for something else', async () => {
      const itemsOnly = await thirdPartyToken('items:read');
      for (const answer of [await me('get', itemsOnly), await me('patch', itemsOnly), await request(fixture.app.callback()).get('/users/me/sessions').set('Authorization', `Bearer ${itemsOnly}`)]) {
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('insufficient_scope');
      }
    });

    it('reads, and only reads, with users:read:own approved, and never the other apps\' logins or consents', async () => {
      const reader = await thirdPartyToken('users:read:own');
      expect((await me('get', reader)).status).toBe(200);
      expect((await me('patch', reader)).status).toBe(403);
      for (const path of ['/users/me/sessions', '/users/me/consents']) {
        const answer = await request(fixture.app.callback()).get(path).set('Authorization', `Bearer ${reader}`);
        expect(answer.status).toBe(403);
        expect(answer.body.error).toBe('insufficient_scope');
      }
    });
  });

  describe('logout (RP-initiated logout shape)', () => {
    const logoutUrl = (extra: Record<string, string> = {}) => `/oauth/logout?${new URLSearchParams({ client_id: 'web', post_logout_redirect_uri: SIGNED_OUT, state: 'bye', ...extra })}`;

    it('confirms a link first, then ends the session and the refresh tokens started from it', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const tokens = (await exchange(await codeFor(browser, code), code.verifier)).body;
      const confirm = await browser.get(logoutUrl());
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain('Sign out?');
      // Nothing ended yet: a cross-site link alone signs nobody out.
      expect((await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).headers.location).toContain('code=');
      const out = await browser.post('/oauth/logout', formFields(confirm.text));
      expect(out.status).toBe(303);
      expect(out.headers.location).toBe(`${SIGNED_OUT}?state=bye`);
      expect(browser.cookies.has('__Host-portcullis_session')).toBe(false);
      expect(callbackParams(await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).get('error')).toBe('login_required');
      expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'web' })).body.error).toBe('invalid_grant');
      expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    });

    it('signs out at once when the page of an app this session signed in to posts it', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      await exchange(await codeFor(browser, code), code.verifier);
      const out = await browser.post('/oauth/logout', { client_id: 'web', post_logout_redirect_uri: SIGNED_OUT, state: 'bye' }, APP_ORIGIN);
      expect(out.status).toBe(303);
      expect(out.headers.location).toBe(`${SIGNED_OUT}?state=bye`);
      expect(callbackParams(await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).get('error')).toBe('login_required');
    });

    it('asks first when the posting app has no login in this session, and touches nothing', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      await exchange(await codeFor(browser, code), code.verifier);
      // "other" is registered, posts from its own origin, but this browser never signed in to it.
      const asked = await browser.post('/oauth/logout', { client_id: 'other' }, 'https://other.example.test');
      expect(asked.status).toBe(200);
      expect(asked.text).toContain('Sign out?');
      expect(callbackParams(await browser.get(authorizeUrl(params(pkce(), { prompt: 'none' })))).get('code')).toMatch(/^[\w-]{43}$/);
    });

    it('sends a cross-site post without the session cookie on to a top-level GET, which confirms', async () => {
      const browser = new Browser(fixture.app);
      const code = pkce();
      await exchange(await codeFor(browser, code), code.verifier);
      const session = browser.cookies.get('__Host-portcullis_session')!;
      browser.cookies.delete('__Host-portcullis_session'); // SameSite=Lax: not sent on a cross-site POST
      const hop = await browser.post('/oauth/logout', { client_id: 'web', post_logout_redirect_uri: SIGNED_OUT }, APP_ORIGIN);
      expect(hop.status).toBe(303);
      expect(hop.headers.location).toBe(`${ISSUER}/oauth/logout?client_id=web&post_logout_redirect_uri=${encodeURIComponent(SIGNED_OUT)}`);
      expect(String(hop.headers['set-cookie'] ?? '')).not.toContain('Max-Age=0');
      browser.cookies.set('__Host-portcullis_session', session);
      expect((await browser.get(hop.headers.location!.slice(ISSUER.length))).text).toContain('Sign out?');
    });

    it('leaves the cookies alone for a link when no session is live', async () => {
      const answer = await new Browser(fixture.app).get(logoutUrl());
      expect(answer.status).toBe(303);
      expect(answer.headers['set-cookie']).toBeUndefined();
    });

    it('never redirects to an unregistered URI', async () => {
      for (const url of [logoutUrl({ post_logout_redirect_uri: 'https://evil.example.test/' }), `/oauth/logout?post_logout_redirect_uri=${encodeURIComponent(SIGNED_OUT)}`, logoutUrl({ client_id: 'nobody' })]) {
        const answer = await new Browser(fixture.app).get(url);
        expect(answer.status).toBe(400);
        expect(answer.headers.location).toBeUndefined();
      }
    });
  });

  describe('pages answer with pages', () => {
    it.each([
      ['a repeated form field', (browser: Browser) => browser.post('/oauth/login', { request: 'a' }).then(() => request(fixture.app.callback()).post('/oauth/login').type('form').send('request=a&request=b')), 400],
      ['a NUL in the query', (browser: Browser) => browser.get(`${authorizeUrl(params(pkce()))}&login_hint=%00`), 400],
      ['a wrong method', () => request(fixture.app.callback()).get('/oauth/login'), 405],
      ['a form over the size limit', () => request(fixture.app.callback()).post('/oauth/login').type('form').send(`request=${'a'.repeat(20_000)}`), 413],
      ['a trailing slash', (browser: Browser) => browser.get(`/oauth/authorize/?${authorizeUrl(params(pkce(), { response_type: 'token' })).split('?')[1]}`), 404],
      ['a trailing slash on a post', () => request(fixture.app.callback()).post('/oauth/login/').type('form').send('request=x'), 404],
    ])('%s', async (_label, send, status) => {
      const answer = await send(new Browser(fixture.app));
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    });
  });

  describe('refresh tokens held by a browser', () => {
    async function tokensFor(clientId: string) {
      const browser = new Browser(fixture.app);
      const code = pkce();
      const value = await codeFor(browser, code, { client_id: clientId });
      const pending = exchange(value, code.verifier, { client_id: clientId });
      // A cookie-mode client's token requests come from its own page, with the custom header.
      if (clientId === 'first-party') pending.set('X-Portcullis-Refresh', 'cookie').set('Origin', APP_ORIGIN);
      const answer = await pending;
      const cookie = refreshCookieOf(answer);
      if (cookie !== undefined) browser.cookies.set('__Host-portcullis_refresh', cookie.split(';')[0]!.split('=')[1]!);
      return { browser, answer, code: value, verifier: code.verifier };
    }
    const refreshCookieOf = (answer: request.Response) => (answer.headers['set-cookie'] as unknown as string[] | undefined)?.find((line) => line.startsWith('__Host-portcullis_refresh='));
    const refreshAs = (clientId: string, refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

    it('gives a public client 8 h absolute and 1 h idle by default, and a client its own', async () => {
      const idle = (await tokensFor('web')).answer.body.refresh_token as string;
      clock.advanceSeconds(3601);
      expect((await refreshAs('web', idle)).body.error).toBe('invalid_grant');

      let current = (await tokensFor('web')).answer.body.refresh_token as string;
      for (let hour = 0; hour < 8; hour += 1) {
        clock.advanceSeconds(3000);
        const next = await refreshAs('web', current);
        expect(next.status).toBe(200);
        current = next.body.refresh_token;
      }
      // Used every 50 min it lives on, until 8 h after its start: use does not move the absolute end.
      clock.advanceSeconds(3000);
      const last = await refreshAs('web', current);
      expect(last.status).toBe(200);
      clock.advanceSeconds(3000);
      expect((await refreshAs('web', last.body.refresh_token)).body.error).toBe('invalid_grant');

      const own = (await tokensFor('long-lived')).answer.body.refresh_token as string;
      clock.advanceSeconds(7000);
      expect((await refreshAs('long-lived', own)).status).toBe(200);
    });

    it('ends a login of a deleted client when a new client takes its id', async () => {
      const { db } = fixture.deps;
      await createClient(db, { id: 'short-lived', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:read'], redirectUris: [APP] }, new Date(clock.now()));
      const held = (await tokensFor('short-lived')).answer.body.refresh_token as string;
      expect(await deleteClient(db, 'short-lived')).toBe(true);
      clock.advanceSeconds(1);
      await createClient(db, { id: 'short-lived', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:read'], redirectUris: [APP] }, new Date(clock.now()));
      // A fresh app: this one's client cache (CLIENT_CACHE_TTL) still holds the deleted client.
      const refreshed = await request(createApp(fixture.deps).callback()).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: held, client_id: 'short-lived' });
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    describe('cookie mode', () => {
      const cookieRefresh = (browser: Browser, headers: Record<string, string>) => {
        const pending = request(fixture.app.callback()).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', client_id: 'first-party' });
        pending.set('Cookie', [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
        for (const [name, value] of Object.entries(headers)) pending.set(name, value);
        return pending;
      };

      it('keeps the refresh token in an HttpOnly SameSite=Strict cookie, never in the body', async () => {
        const { browser, answer } = await tokensFor('first-party');
        expect(answer.status).toBe(200);
        expect(answer.body.refresh_token).toBeUndefined();
        const cookie = refreshCookieOf(answer);
        expect(cookie).toMatch(/^__Host-portcullis_refresh=[\w-]{24}\.[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800$/);

        const refreshed = await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: APP_ORIGIN });
        expect(refreshed.status).toBe(200);
        expect(refreshed.body.refresh_token).toBeUndefined();
        expect(refreshed.headers['access-control-allow-credentials']).toBe('true');
        const next = refreshCookieOf(refreshed);
        expect(next).toBeDefined();
        expect(next).not.toBe(cookie);
      });

      it('refuses the cookie without the custom header or from another origin', async () => {
        const { browser } = await tokensFor('first-party');
        expect((await cookieRefresh(browser, { Origin: APP_ORIGIN })).body).toMatchObject({ error: 'invalid_request' });
        expect((await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: 'https://evil.example.test' })).body).toMatchObject({ error: 'invalid_request' });
        expect((await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie' })).body).toMatchObject({ error: 'invalid_request' });
        // None of those touched the token: it still rotates.
        expect((await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: APP_ORIGIN })).status).toBe(200);
      });

      it('is cleared and its login ended by logout', async () => {
        const { browser } = await tokensFor('first-party');
        const held = new Map(browser.cookies);
        const out = await browser.post('/oauth/logout', { client_id: 'first-party' }, APP_ORIGIN);
        expect(String(out.headers['set-cookie'])).toContain('__Host-portcullis_refresh=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0');
        // The refresh token is dead on the server, not only gone from the browser.
        for (const [name, value] of held) browser.cookies.set(name, value);
        expect((await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: APP_ORIGIN })).body).toMatchObject({ error: 'invalid_grant' });
      });

      it('refuses a code exchange that is not its own page\'s: a cross-site form cannot plant a login in the cookie', async () => {
        const browser = new Browser(fixture.app);
        const code = pkce();
        const value = await codeFor(browser, code, { client_id: 'first-party' });
        for (const headers of [{}, { Origin: 'https://evil.example.test', 'X-Portcullis-Refresh': 'cookie' }, { Origin: APP_ORIGIN }]) {
          const answer = await exchange(value, code.verifier, { client_id: 'first-party' }).set(headers);
          expect(answer.body).toMatchObject({ error: 'invalid_request' });
          expect(refreshCookieOf(answer)).toBeUndefined();
        }
        // Refused before the code was touched: its own page still gets it.
        const own = await exchange(value, code.verifier, { client_id: 'first-party' }).set({ Origin: APP_ORIGIN, 'X-Portcullis-Refresh': 'cookie' });
        expect(own.status).toBe(200);
      });

      it('clears a cookie whose refresh token is dead', async () => {
        const { browser } = await tokensFor('first-party');
        const stale = browser.cookies.get('__Host-portcullis_refresh')!;
        expect((await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: APP_ORIGIN })).status).toBe(200);
        browser.cookies.set('__Host-portcullis_refresh', stale);
        clock.advanceSeconds(6); // past the grace window: the stale token is a reuse, the family ends
        const refused = await cookieRefresh(browser, { 'X-Portcullis-Refresh': 'cookie', Origin: APP_ORIGIN });
        expect(refused.body.error).toBe('invalid_grant');
        expect(refreshCookieOf(refused)).toMatch(/Max-Age=0$/);
      });
    });
  });
});

describe('the login form under the password-grant throttle and hash queue', () => {
  let fixture: Awaited<ReturnType<typeof oauthFixture>>;
  beforeAll(async () => {
    fixture = await oauthFixture({ LOGIN_FAILURES_BEFORE_DELAY: '3', ACCOUNT_FAILURE_DELAY: '0' });
    await createClient(fixture.deps.db, { id: 'web', type: 'public', grantTypes: ['authorization_code'], scopes: ['items:read'], redirectUris: [APP] }, new Date(fixture.deps.clock.now()));
  });
  afterAll(async () => fixture.deps.cleanup());

  it('counts form failures with the grant\'s: refused before any hashing, the form says when to retry', async () => {
    const code = pkce();
    const query = { response_type: 'code', client_id: 'web', redirect_uri: APP, code_challenge: code.challenge, code_challenge_method: 'S256' };
    const browser = new Browser(fixture.app);
    const fields = formFields((await browser.get(authorizeUrl(query))).text);
    for (let i = 0; i < 3; i += 1) expect((await browser.post('/oauth/login', { ...fields, username: 'alice', password: 'wrong-password' })).status).toBe(200);
    const hashing = jest.spyOn(fixture.deps.passwords, 'check');
    const refused = await browser.post('/oauth/login', { ...fields, username: 'alice', password: 'alice-password' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.text).toContain('Too many failed attempts');
    expect(refused.text).toContain('name="password"');
    expect(hashing).not.toHaveBeenCalled();
    // The same pair is refused at the password grant: one set of counters.
    const grant = await request(fixture.app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(grant.status).toBe(429);
    hashing.mockRestore();
  });

  it('shows the form with a 503 when the hash queue is full, never a JSON error or a 500', async () => {
    // One hash slot, no queue, and a real argon2 binding that holds its first hash until released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    const held = { ...rustArgon2, verify: async (hash: string, password: string) => { entered(); await released; return rustArgon2.verify(hash, password); } };
    const passwords = new Passwords({ ...fixture.deps.config.argon2, maxConcurrent: 1, maxQueue: 0 }, held);
    const app = createApp({ ...fixture.deps, passwords });
    const blocker = request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'mod', password: 'mod-password' }).then((res) => res);
    await started;
    try {
      const code = pkce();
      const browser = new Browser(app);
      const fields = formFields((await browser.get(authorizeUrl({ response_type: 'code', client_id: 'web', redirect_uri: APP, code_challenge: code.challenge, code_challenge_method: 'S256' }))).text);
      const answer = await browser.post('/oauth/login', { ...fields, username: 'mod', password: 'mod-password' });
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.headers['retry-after']).toBe('2');
      expect(answer.text).toContain('Too many sign-ins are in progress');
      expect(answer.text).toContain('name="password"');
    } finally {
      release();
    }
    expect((await blocker).status).toBe(200);
  });
});
