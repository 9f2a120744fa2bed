import request from 'supertest';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import type { FakeClock } from '../support/clock';
import { basic, ISSUER, RS_SECRET } from '../support/oauth-fixture';
import { LONGEST_CLIENT_CACHE_TTL_SEC } from '../../src/config/schema';

// Issue 11's reproductions, each as the attacker ran it, through the HTTP API.
describe('issue 11: no scope, client or token reaches further than its holder', () => {
  let f: ApiFixture;
  const api = () => request(f.app.callback());
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const tick = () => (f.deps.clock as FakeClock).advance(5);
  const introspect = async (token: string) => (await api().post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token })).body as { active: boolean };
  const clientToken = (id: string, secret: string, extra: Record<string, string> = {}) => api().post('/oauth/token').type('form').set('Authorization', basic(id, secret)).send({ grant_type: 'client_credentials', ...extra });
  let superId: string;

  beforeAll(async () => {
    f = await apiFixture();
    const superuser = await registerUser(f.deps, { username: 'super', password: 'super-password', roles: ['superuser'] });
    superId = superuser.id;
    await createClient(f.deps.db, { id: 'power', type: 'confidential', secret: 'power-client-secret-with-32-characters!!', grantTypes: ['client_credentials'], scopes: ['admin'] }, new Date(f.deps.clock.now()));
  });
  afterAll(async () => f.deps.cleanup());

  it('1. users:write cannot set a superuser\'s password, strip its roles, disable or delete it', async () => {
    const ops = await f.token('ops');
    expect((await api().post(`/admin/users/${superId}/password`).set(bearer(ops)).send({ password: 'taken-over-password' })).status).toBe(403);
    expect((await api().patch(`/admin/users/${superId}`).set(bearer(ops)).send({ roles: [] })).status).toBe(403);
    expect((await api().post(`/admin/users/${superId}/disable`).set(bearer(ops))).status).toBe(403);
    const remover = await f.token('remover');
    // users:delete without users:read: told no more than "no such user".
    expect((await api().delete(`/admin/users/${superId}`).set(bearer(remover))).status).toBe(404);
    expect((await f.login('super', 'super-password')).access_token).toEqual(expect.any(String));
    const after = await api().get(`/admin/users/${superId}`).set(bearer(await f.token('root')));
    expect(after.body).toMatchObject({ roles: ['superuser'], disabled: false });
  });

  it('2. clients:write cannot rotate the secret of an admin client, nor widen a client\'s audiences or grant introspection', async () => {
    const clientops = await f.token('clientops');
    expect((await api().post('/admin/clients/power/secret').set(bearer(clientops))).status).toBe(403);
    expect((await clientToken('power', 'power-client-secret-with-32-characters!!')).status).toBe(200); // the old secret still works
    const mine = await api().post('/admin/clients').set(bearer(clientops)).send({ id: 'reporter', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['reports:read'] });
    expect(mine.status).toBe(201);
    for (const change of [{ audiences: [ISSUER] }, { canIntrospect: true }, { grantTypes: ['client_credentials', 'password'] }]) {
      const res = await api().patch('/admin/clients/reporter').set(bearer(clientops)).send(change);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden_grant');
    }
    expect((await api().patch('/admin/clients/reporter').set(bearer(clientops)).send({ name: 'Reporter' })).status).toBe(200);
    // The rs client may introspect: a privilege clientops does not hold.
    expect((await api().delete('/admin/clients/rs').set(bearer(clientops))).status).toBe(403);
    expect((await api().patch('/admin/clients/reporter').set(bearer(await f.token('clientadmin'))).send({ canIntrospect: true })).status).toBe(200);
  });

  it('3. a client id can never equal a user id, and a client\'s token never acts as a user', async () => {
    const root = await f.token('root');
    const created = await api().post('/admin/clients').set(bearer(root)).send({ id: superId, type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'] });
    expect(created.status).toBe(400);
    // The ordinary case: a client's own token is refused by every /users/me endpoint.
    await createClient(f.deps.db, { id: 'svc-me', type: 'confidential', secret: 'svc-me-secret-with-at-least-32-chars!!', grantTypes: ['client_credentials'], scopes: [], audiences: [ISSUER] }, new Date(f.deps.clock.now()));
    const token = (await clientToken('svc-me', 'svc-me-secret-with-at-least-32-chars!!', { resource: ISSUER })).body.access_token as string;
    for (const [method, path] of [['get', '/users/me'], ['patch', '/users/me'], ['delete', '/users/me/sessions'], ['get', '/users/me/sessions']] as const) {
      expect((await api()[method](path).set(bearer(token)).send({ fullName: 'x' })).status).toBe(401);
    }
    const verified = await api().get('/oauth/verify').set(bearer(token));
    expect(verified.headers['x-auth-subject-type']).toBe('client');
  });

  it('4. a token for another resource service is refused by the admin and account APIs', async () => {
    // alice through the spa client, asking for the items service.
    const res = await api().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', resource: 'https://items.example.test', scope: 'users:read' });
    expect(res.status).toBe(200);
    const foreign = res.body.access_token as string;
    expect((await api().get('/users/me').set(bearer(foreign))).status).toBe(401);
    expect((await api().get('/admin/users').set(bearer(foreign))).status).toBe(401);
    expect((await api().get('/admin/users').set(bearer(foreign))).headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('8. log out everywhere ends access tokens that belong to no session', async () => {
    // A client without the refresh grant: its tokens carry no sid.
    await createClient(f.deps.db, { id: 'nosession', type: 'public', grantTypes: ['password'], scopes: ['items:read'], audiences: [ISSUER] }, new Date(f.deps.clock.now()));
    const login = await api().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'nosession', username: 'alice', password: 'alice-password', resource: ISSUER });
    expect(login.body.refresh_token).toBeUndefined();
    const loose = login.body.access_token as string;
    tick();
    const current = await f.token('alice');
    expect((await introspect(loose)).active).toBe(true);
    tick();
    expect((await api().delete('/users/me/sessions').set(bearer(current))).status).toBe(204);
    expect((await introspect(loose)).active).toBe(false);
    expect((await introspect(current)).active).toBe(false);
    tick();
    expect((await introspect(await f.token('alice'))).active).toBe(true);
  });

  it('12. deleting a client ends its access tokens at once; a client re-created under its id starts clean once any client cache has let the old one go', async () => {
    const root = await f.token('root');
    const created = await api().post('/admin/clients').set(bearer(root)).send({ id: 'doomed', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'] });
    const secret = created.body.client_secret as string;
    const token = (await clientToken('doomed', secret)).body.access_token as string;
    expect((await introspect(token)).active).toBe(true);
    tick();
    expect((await api().delete('/admin/clients/doomed').set(bearer(root))).status).toBe(204);
    expect((await introspect(token)).active).toBe(false);
    expect((await api().get('/oauth/verify').set(bearer(token))).status).toBe(401);
    tick();
    const again = await api().post('/admin/clients').set(bearer(root)).send({ id: 'doomed', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'] });
    // Within the longest CLIENT_CACHE_TTL (and a second) of the deletion, tokens under the id are
    // refused: other instances may still issue them from the deleted client's cached record.
    const early = (await clientToken('doomed', again.body.client_secret as string)).body.access_token as string;
    expect((await introspect(early)).active).toBe(false);
    (f.deps.clock as FakeClock).advance(LONGEST_CLIENT_CACHE_TTL_SEC * 1000 + 1000);
    const fresh = (await clientToken('doomed', again.body.client_secret as string)).body.access_token as string;
    expect((await introspect(fresh)).active).toBe(true);
  });

  it('12. rotating a secret keeps the client\'s tokens (documented): only the old secret stops', async () => {
    const root = await f.token('root');
    const created = await api().post('/admin/clients').set(bearer(root)).send({ id: 'rotating', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'] });
    const token = (await clientToken('rotating', created.body.client_secret as string)).body.access_token as string;
    tick();
    expect((await api().post('/admin/clients/rotating/secret').set(bearer(root))).status).toBe(200);
    expect((await introspect(token)).active).toBe(true);
  });

  describe('found by the outside review', () => {
    it('paths are case-sensitive: another spelling of an API path is 404, never an unauthenticated handler', async () => {
      const root = await f.token('root');
      expect((await api().get('/Users/me')).status).toBe(404);
      expect((await api().patch('/Users/me').send({ email: 'x@example.test' })).status).toBe(404);
      expect((await api().get('/ADMIN/users').set(bearer(root))).status).toBe(404);
      expect((await api().get(`/admin/Users/${superId}`).set(bearer(root))).status).toBe(404);
      expect((await api().get('/admin/Clients/power')).status).toBe(404);
      expect((await api().get('/OAuth/verify').set(bearer(root))).status).toBe(404);
    });

    it('a username can never look like a user id (a decoy for an operator pasting a sub)', async () => {
      const res = await api().post('/admin/users').set(bearer(await f.token('root'))).send({ username: superId, password: 'decoy-password' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_username');
    });

    it.each(['Audience=https%3A%2F%2Fx.example', 'aud=x', 'scope[]=users:read', 'audience[]=x', 'scope=', 'scope=+'])('forward-auth refuses the parameter %p with 400 instead of skipping a check', async (query) => {
      const res = await api().get(`/oauth/verify?${query}`).set(bearer(await f.token('alice')));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('CORS origins are a privilege: they open every browser endpoint, not just the client\'s', async () => {
      const res = await api().post('/admin/clients').set(bearer(await f.token('clientops'))).send({ id: 'evil-origin', type: 'public', grantTypes: ['refresh_token'], scopes: [], corsOrigins: ['https://evil.example'] });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden_grant');
      const own = await api().post('/admin/clients').set(bearer(await f.token('clientops'))).send({ id: 'plain-origin', type: 'public', grantTypes: ['refresh_token'], scopes: [] });
      expect(own.status).toBe(201);
      expect((await api().patch('/admin/clients/plain-origin').set(bearer(await f.token('clientops'))).send({ corsOrigins: ['https://evil.example'] })).status).toBe(403);
    });
  });
});
