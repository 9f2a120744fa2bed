import request from 'supertest';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { createApp } from '../../src/http/app';
import type { FakeClock } from '../support/clock';
import { basic, RS_SECRET } from '../support/oauth-fixture';

describe('admin API /admin/clients', () => {
  let f: ApiFixture;
  const api = () => request(f.app.callback());
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const clientCredentials = (id: string, secret: string) => api().post('/oauth/token').type('form').set('Authorization', basic(id, secret)).send({ grant_type: 'client_credentials' });
  const introspectAs = (id: string, secret: string, token: string) => api().post('/oauth/introspect').type('form').set('Authorization', basic(id, secret)).send({ token });

  beforeAll(async () => {
    f = await apiFixture();
  });
  afterAll(async () => f.deps.cleanup());

  it('needs clients:read to list and clients:write to change (403 otherwise)', async () => {
    const ops = await f.token('ops');
    expect((await api().get('/admin/clients').set(bearer(ops))).status).toBe(403);
    expect((await api().post('/admin/clients').set(bearer(ops)).send({})).status).toBe(403);
    expect((await api().get('/admin/clients')).status).toBe(401);
    const listed = await api().get('/admin/clients').set(bearer(await f.token('clientops')));
    expect(listed.status).toBe(200);
    expect(listed.body.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['spa', 'service', 'console']));
    expect(JSON.stringify(listed.body)).not.toMatch(/secret_hash|secretHash|hmac/);
  });

  it('creates a confidential client and shows its secret once; the secret works', async () => {
    const token = await f.token('clientadmin');
    const created = await api().post('/admin/clients').set(bearer(token)).send({ id: 'reports', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['reports:read'], defaultScopes: ['reports:read'], canIntrospect: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'reports', type: 'confidential', canIntrospect: true, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const secret = created.body.client_secret as string;
    expect((await clientCredentials('reports', secret)).status).toBe(200);
    const read = await api().get('/admin/clients/reports').set(bearer(token));
    expect(read.body).not.toHaveProperty('client_secret');
    expect(JSON.stringify(f.deps.logs.lines())).not.toContain(secret);
    // Every privilege the new client holds is on the audit line, not only its scopes.
    expect(f.deps.logs.events('admin.client_created').at(-1)).toMatchObject({
      actorUsername: 'clientadmin',
      target: 'reports',
      changes: { type: 'confidential', grantTypes: ['client_credentials'], scopes: ['reports:read'], canIntrospect: true, audiences: [], corsOrigins: [], redirectUris: [], refreshTokenInCookie: false },
    });
  });

  it('refuses to allow a client scopes the admin does not hold (no path from clients:write to admin)', async () => {
    const res = await api().post('/admin/clients').set(bearer(await f.token('clientops'))).send({ id: 'escalator', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['admin'] });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden_grant');
    expect((await api().patch('/admin/clients/service').set(bearer(await f.token('clientops'))).send({ scopes: ['users:write'] })).status).toBe(403);
  });

  it('refuses a duplicate id (409), an invalid client (400) and unknown fields (400)', async () => {
    const token = await f.token('clientops');
    expect((await api().post('/admin/clients').set(bearer(token)).send({ id: 'reports', type: 'public', grantTypes: ['refresh_token'], scopes: [] })).status).toBe(409);
    const publicCc = await api().post('/admin/clients').set(bearer(token)).send({ id: 'bad', type: 'public', grantTypes: ['client_credentials'], scopes: [] });
    expect(publicCc.status).toBe(400);
    expect(publicCc.body.error_description).toMatch(/public client cannot use client_credentials/);
    const secretGiven = await api().post('/admin/clients').set(bearer(token)).send({ id: 'bad2', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secret: 'x'.repeat(40) });
    expect(secretGiven.body.details).toEqual({ secret: 'unknown or read-only field' });
    const badGrant = await api().post('/admin/clients').set(bearer(token)).send({ id: 'bad3', type: 'public', grantTypes: ['implicit'], scopes: [] });
    expect(Object.keys(badGrant.body.details)).toEqual(['grantTypes.0']);
  });

  it('updates a client; the change applies at once on this instance, also to the introspection cache', async () => {
    const token = await f.token('clientadmin');
    const rotated = await api().post('/admin/clients/reports/secret').set(bearer(token));
    const secret = rotated.body.client_secret as string;
    const own = (await clientCredentials('reports', secret)).body.access_token as string;
    expect((await introspectAs('reports', secret, own)).body.active).toBe(true);
    const updated = await api().patch('/admin/clients/reports').set(bearer(token)).send({ canIntrospect: false, name: 'Reports service' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Reports service', canIntrospect: false });
    expect((await introspectAs('reports', secret, own)).status).toBe(403);
    expect((await api().patch('/admin/clients/reports').set(bearer(token)).send({ type: 'public' })).status).toBe(400);
    expect((await api().patch('/admin/clients/nope').set(bearer(token)).send({ name: 'x' })).status).toBe(404);
  });

  it('rotates a secret: the old one stops at once, the new one works', async () => {
    const token = await f.token('clientops');
    const first = (await api().post('/admin/clients/reports/secret').set(bearer(token))).body.client_secret as string;
    const second = (await api().post('/admin/clients/reports/secret').set(bearer(token))).body.client_secret as string;
    expect(second).not.toBe(first);
    expect((await clientCredentials('reports', first)).status).toBe(401);
    expect((await clientCredentials('reports', second)).status).toBe(200);
    expect((await api().post('/admin/clients/spa/secret').set(bearer(await f.token('root')))).status).toBe(400);
    expect((await api().post('/admin/clients/nope/secret').set(bearer(token))).status).toBe(404);
  });

  it('deletes a client (204, then 404); it can no longer get tokens', async () => {
    const token = await f.token('clientops');
    const secret = (await api().post('/admin/clients/reports/secret').set(bearer(token))).body.client_secret as string;
    expect((await api().delete('/admin/clients/reports').set(bearer(token))).status).toBe(204);
    expect((await api().get('/admin/clients/reports').set(bearer(token))).status).toBe(404);
    expect((await api().delete('/admin/clients/reports').set(bearer(token))).status).toBe(404);
    expect((await clientCredentials('reports', secret)).status).toBe(401);
  });

  it('deleting a client also ends the tokens another instance issues to it from its client cache afterwards', async () => {
    const token = await f.token('clientadmin');
    const created = await api().post('/admin/clients').set(bearer(token)).send({ id: 'leaked', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['reports:read'], defaultScopes: ['reports:read'] });
    expect(created.status).toBe(201);
    const secret = created.body.client_secret as string;
    // Another instance (its own client cache) has the client cached.
    const otherInstance = createApp(f.deps).callback();
    const issueThere = () => request(otherInstance).post('/oauth/token').type('form').set('Authorization', basic('leaked', secret)).send({ grant_type: 'client_credentials' });
    const before = await issueThere();
    expect(before.status).toBe(200);

    expect((await api().delete('/admin/clients/leaked').set(bearer(token))).status).toBe(204);
    // Within CLIENT_CACHE_TTL the other instance still knows the client and issues a token...
    (f.deps.clock as FakeClock).advance(2000);
    const after = await issueThere();
    expect(after.status).toBe(200);
    // ...which, like the one before, is refused everywhere.
    for (const issued of [before.body.access_token as string, after.body.access_token as string]) {
      expect((await introspectAs('rs', RS_SECRET, issued)).body).toEqual({ active: false });
      expect((await request(otherInstance).get('/oauth/verify').set(bearer(issued))).status).toBe(401);
    }
  });

  describe('clients of the authorization-code flow (issue 14)', () => {
    const create = async (body: Record<string, unknown>, as: 'clientadmin' | 'clientops' = 'clientadmin') =>
      api().post('/admin/clients').set(bearer(await f.token(as))).send({ type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['reports:read'], ...body });
    const patch = async (id: string, body: Record<string, unknown>, as: 'clientadmin' | 'clientops' = 'clientadmin') => api().patch(`/admin/clients/${id}`).set(bearer(await f.token(as))).send(body);
    const REDIRECT_URIS = [
      // Kept character for character: upper case, the default port, encoded octets, a query.
      'https://App.Example.com:443/cb?from=portcullis&x=%2F',
      'http://localhost:5173/callback.html',
      'http://127.0.0.1:51004/cb',
      'http://[::1]/cb',
      // RFC 8252 §7.1: a native app's private-use scheme, in reverse-domain form.
      'com.example.app:/oauth2redirect',
    ];

    it('registers redirect and post-logout URIs exactly as given, consent, and the client\'s own refresh settings', async () => {
      const created = await create({
        id: 'reports-spa',
        redirectUris: REDIRECT_URIS,
        postLogoutRedirectUris: ['https://App.Example.com/signed-out', 'com.example.app:/'],
        requireConsent: true,
        refreshTokenTtlSec: 8 * 3600,
        refreshIdleTtlSec: 3600,
        refreshTokenInCookie: true,
        corsOrigins: ['https://app.example.com'],
      });
      expect(created.status).toBe(201);
      const expected = {
        id: 'reports-spa',
        // Nothing adds the password grant to a public client that did not ask for it.
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: REDIRECT_URIS,
        postLogoutRedirectUris: ['https://App.Example.com/signed-out', 'com.example.app:/'],
        requireConsent: true,
        refreshTokenTtlSec: 28800,
        refreshIdleTtlSec: 3600,
        refreshTokenInCookie: true,
      };
      expect(created.body).toMatchObject(expected);
      expect((await api().get('/admin/clients/reports-spa').set(bearer(await f.token('clientops')))).body).toMatchObject(expected);
      expect(f.deps.logs.events('admin.client_created').at(-1)).toMatchObject({ target: 'reports-spa', changes: { redirectUris: REDIRECT_URIS, requireConsent: true } });
    });

    it('shows the defaults for a client registered without them', async () => {
      const spa = await api().get('/admin/clients/spa').set(bearer(await f.token('clientops')));
      expect(spa.body).toMatchObject({ redirectUris: [], postLogoutRedirectUris: [], requireConsent: false, refreshTokenTtlSec: null, refreshIdleTtlSec: null, refreshTokenInCookie: false });
    });

    it.each([
      ['http://app.example.com/cb', /http: for a host other than localhost, 127.0.0.1 or \[::1\]/],
      ['http://localhost.example.com/cb', /http: for a host other than/],
      ['http://127.0.0.1.example.com/cb', /http: for a host other than/],
      ['http://127.1/cb', /http: for a host other than/],
      ['https://app.example.com/cb#state', /fragment/],
      ['https://app.example.com/cb#', /fragment/],
      ['javascript:alert(document.cookie)', /scheme javascript:/],
      ['JavaScript://app.example.com/%0Aalert(1)', /scheme javascript:/],
      ['data:text/html,<script>alert(1)</script>', /character a URI may not|scheme data:/],
      ['data:text/html;base64,PHNjcmlwdD4=', /scheme data:/],
      ['file:///etc/passwd', /scheme file:/],
      ['vbscript:msgbox(1)', /scheme vbscript:/],
      ['myapp:/callback', /scheme myapp:.*reverse-domain/],
      ['https://user:pass@app.example.com/cb', /userinfo/],
      ['https://user@app.example.com/cb', /userinfo/],
      ['http://localhost@evil.example.com/cb', /userinfo/],
      ['https://app.example.com/c b', /whitespace/],
      ['https://app.example.com/cb\t', /whitespace/],
      ['https://app.example.com/cb\u0007', /control/],
      ['https://app.example.com/caf\u00e9', /character a URI may not/],
      ['https://evil.example.com\\@app.example.com/cb', /character a URI may not/],
      ['https://app.example.com/%zz', /percent-encoded/],
      ['/relative/callback', /not an absolute URI/],
      ['https:app.example.com/cb', /with a host/],
      ['https:///cb', /no valid host/],
      ['com.example.app:', /nothing after the scheme/],
      ['javascript.x:alert(1)', /scheme javascript\.x:/],
      ['https://app.example.com/cb?x=1&code=fixed', /parameter code in its query/],
      ['https://app.example.com/cb?state=evil', /parameter state in its query/],
      ['https://app.example.com/cb?x=1;code=2', /parameter code in its query/],
      ['https://app.example.com/cb?CODE=1', /parameter code in its query/],
      ['https://app.example.com/cb?c%6Fde=1', /parameter code in its query/],
      ['java.script:alert(1)', /scheme java\.script:/],
    ])('refuses the redirect URI %p (400, with the reason), also after logout', async (uri, reason) => {
      const res = await create({ id: 'bad-redirect', redirectUris: [uri] });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(reason);
      const logout = await create({ id: 'bad-redirect', redirectUris: ['https://app.example.com/cb'], postLogoutRedirectUris: [uri] });
      expect(logout.status).toBe(400);
      expect(logout.body.error_description).toMatch(/^post-logout redirect URIs: /);
      expect((await api().get('/admin/clients/bad-redirect').set(bearer(await f.token('clientops')))).status).toBe(404);
    });

    it('refuses a URI over 2,000 characters and a list over 20', async () => {
      const long = await create({ id: 'too-long', redirectUris: [`https://app.example.com/${'a'.repeat(2000)}`] });
      expect(long.status).toBe(400);
      expect(Object.keys(long.body.details)).toEqual(['redirectUris.0']);
      const many = await create({ id: 'too-many', redirectUris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`) });
      expect(many.status).toBe(400);
      expect(Object.keys(many.body.details)).toEqual(['redirectUris']);
      expect((await create({ id: 'twenty', redirectUris: Array.from({ length: 20 }, (_, i) => `https://app.example.com/cb${i}`) })).status).toBe(201);
    });

    it.each([
      [{ redirectUris: [] }, /authorization_code grant needs at least one redirect URI/],
      [{ redirectUris: ['https://app.example.com/cb'], grantTypes: ['authorization_code'], refreshTokenInCookie: true }, /refresh-token cookie needs the refresh_token grant/],
      [{ redirectUris: ['https://app.example.com/cb'], grantTypes: ['authorization_code', 'refresh_token'], refreshTokenInCookie: true }, /refresh-token cookie needs the origin of the app/],
      [{ redirectUris: ['https://app.example.com/cb'], refreshTokenTtlSec: 3600, refreshIdleTtlSec: 7200 }, /idle lifetime cannot be longer/],
    ])('refuses %p', async (body, reason) => {
      const res = await create({ id: 'bad-settings', ...body });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(reason);
    });

    it.each([59, 366 * 86400 + 1, 3600.5, '3600'])('refuses a refresh lifetime of %p seconds', async (ttl) => {
      for (const field of ['refreshTokenTtlSec', 'refreshIdleTtlSec']) {
        const res = await create({ id: 'bad-ttl', redirectUris: ['https://app.example.com/cb'], [field]: ttl });
        expect(res.status).toBe(400);
        expect(Object.keys(res.body.details)).toEqual([field]);
      }
    });

    it('accepts the bounds: one minute and 366 days', async () => {
      const res = await create({ id: 'bounds', redirectUris: ['https://app.example.com/cb'], refreshTokenTtlSec: 366 * 86400, refreshIdleTtlSec: 60 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ refreshTokenTtlSec: 31622400, refreshIdleTtlSec: 60 });
    });

    it('updates each setting; null puts a refresh lifetime back to the default; the rules hold on update', async () => {
      const changed = await patch('reports-spa', { redirectUris: ['https://reports.example.com/cb'], postLogoutRedirectUris: [], requireConsent: false, refreshTokenTtlSec: null, refreshIdleTtlSec: 600, refreshTokenInCookie: false });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ redirectUris: ['https://reports.example.com/cb'], postLogoutRedirectUris: [], requireConsent: false, refreshTokenTtlSec: null, refreshIdleTtlSec: 600, refreshTokenInCookie: false });
      expect((await patch('reports-spa', { redirectUris: [] })).body.error_description).toMatch(/needs at least one redirect URI/);
      expect((await patch('reports-spa', { redirectUris: ['http://reports.example.com/cb'] })).status).toBe(400);
      expect((await patch('reports-spa', { refreshTokenTtlSec: 300 })).body.error_description).toMatch(/idle lifetime cannot be longer/);
      expect((await patch('reports-spa', { grantTypes: ['authorization_code'], refreshTokenInCookie: true })).status).toBe(400);
      expect((await api().get('/admin/clients/reports-spa').set(bearer(await f.token('clientops')))).body.redirectUris).toEqual(['https://reports.example.com/cb']);
    });

    it('redirect URIs are a privilege: clients:write alone can neither register nor change them', async () => {
      const refused = await create({ id: 'ops-spa', redirectUris: ['https://app.example.com/cb'] }, 'clientops');
      expect(refused.status).toBe(403);
      expect(refused.body.error_description).toMatch(/clients:admin may set redirect URIs/);
      // ...nor touch a client that has them (its users' codes go there).
      expect((await patch('reports-spa', { name: 'Renamed' }, 'clientops')).status).toBe(403);
      // A client without the code flow, and its post-logout URIs and refresh settings, need no privilege.
      const plain = await api().post('/admin/clients').set(bearer(await f.token('clientops'))).send({ id: 'ops-svc', type: 'confidential', grantTypes: ['client_credentials', 'refresh_token'], scopes: ['reports:read'], refreshTokenTtlSec: 3600 });
      expect(plain.status).toBe(201);
      expect((await patch('ops-svc', { refreshIdleTtlSec: 1800, requireConsent: true }, 'clientops')).status).toBe(200);
      expect((await patch('ops-svc', { redirectUris: ['https://ops.example.com/cb'] }, 'clientops')).status).toBe(403);
      expect((await patch('ops-svc', { redirectUris: ['https://ops.example.com/cb'] })).status).toBe(200);
    });

    it('refuses the RFC 7591 spelling redirect_uris as an unknown field, never ignores it', async () => {
      const res = await create({ id: 'typo', redirect_uris: ['https://app.example.com/cb'] });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ redirect_uris: 'unknown or read-only field' });
    });
  });
});
