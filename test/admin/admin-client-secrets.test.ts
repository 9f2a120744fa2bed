import request from 'supertest';
import { createClient } from '../../src/identity/clients';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { basic, SERVICE_SECRET } from '../support/oauth-fixture';

const DAY_MS = 86400_000;

// Issue 15: a client's secrets through the admin API, as an operator's tooling would use it.
describe('admin API /admin/clients/:id/secrets', () => {
  let f: ApiFixture;
  const api = () => request(f.app.callback());
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const clientCredentials = (id: string, secret: string) => api().post('/oauth/token').type('form').set('Authorization', basic(id, secret)).send({ grant_type: 'client_credentials' });
  const rotate = async (id: string, body?: object, as: 'root' | 'clientops' | 'clientadmin' = 'root') => {
    const call = api().post(`/admin/clients/${id}/secrets`).set(bearer(await f.token(as)));
    return body === undefined ? call : call.send(body);
  };
  const remove = async (id: string, secretId: string, as: 'root' | 'clientops' | 'clientadmin' = 'root') => api().delete(`/admin/clients/${id}/secrets/${secretId}`).set(bearer(await f.token(as)));
  const view = async (id: string) => (await api().get(`/admin/clients/${id}`).set(bearer(await f.token('root')))).body as { secrets: Array<{ id: string; notAfter: string | null }> };

  beforeAll(async () => {
    f = await apiFixture();
    const now = new Date(f.deps.clock.now());
    await createClient(f.deps.db, { id: 'reports', type: 'confidential', secret: 'reports-secret-with-at-least-32-characters', grantTypes: ['client_credentials'], scopes: ['reports:read'] }, now);
    await createClient(f.deps.db, { id: 'intro', type: 'confidential', secret: 'intro-secret-with-at-least-32-characters!', grantTypes: ['client_credentials'], scopes: ['reports:read'], canIntrospect: true }, now);
  });
  afterAll(async () => f.deps.cleanup());

  it('shows each client\'s secrets: id, createdAt, notAfter, lastUsedAt, never a hash', async () => {
    const read = await api().get('/admin/clients/service').set(bearer(await f.token('clientops')));
    expect(read.status).toBe(200);
    expect(read.body.secrets).toEqual([{ id: expect.stringMatching(/^cs_[A-Za-z0-9_-]{12}$/), createdAt: new Date(f.deps.clock.now()).toISOString(), notAfter: null, lastUsedAt: null }]);
    const listed = await api().get('/admin/clients').set(bearer(await f.token('clientops')));
    const byId = new Map((listed.body as Array<{ id: string; secrets: unknown[] }>).map((client) => [client.id, client.secrets]));
    expect(byId.get('service')).toEqual(read.body.secrets);
    expect(byId.get('spa')).toEqual([]);
    expect(JSON.stringify(listed.body)).not.toMatch(/hmac|secret_hash|"hash"/);
  });

  it('rotates with overlap: 201 with exactly the new secret\'s JSON; old and new both work', async () => {
    const [old] = (await view('service')).secrets;
    const res = await rotate('service');
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['clientId', 'oldSecretExpiresAt', 'secret', 'secretId']);
    // The default overlap is CLIENT_SECRET_OVERLAP: 7 days.
    expect(res.body).toEqual({ clientId: 'service', secretId: expect.stringMatching(/^cs_/), secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), oldSecretExpiresAt: new Date(f.deps.clock.now() + 7 * DAY_MS).toISOString() });
    expect((await clientCredentials('service', SERVICE_SECRET)).status).toBe(200);
    expect((await clientCredentials('service', res.body.secret)).status).toBe(200);
    // (Listed oldest first; these two were made at the same instant of the fixture's clock.)
    expect((await view('service')).secrets).toEqual(
      expect.arrayContaining([{ ...old, notAfter: res.body.oldSecretExpiresAt }, expect.objectContaining({ id: res.body.secretId, notAfter: null })]),
    );
    expect(JSON.stringify(f.deps.logs.lines())).not.toContain(res.body.secret);
    expect(f.deps.logs.events('admin.client_secret_rotated').at(-1)).toMatchObject({ actorUsername: 'root', target: 'service', changes: { secretId: res.body.secretId, oldSecretExpiresAt: res.body.oldSecretExpiresAt } });
  });

  it('refuses a third active secret (409, naming what to do), then removes one (204) and rotates', async () => {
    const refused = await rotate('service', { keepOldFor: '1h' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('too_many_secrets');
    expect(refused.body.error_description).toMatch(/already has 2 active secrets.*remove one first/);
    const { secrets } = await view('service');
    const old = secrets.find((secret) => secret.notAfter !== null);
    const current = secrets.find((secret) => secret.notAfter === null);
    expect((await remove('service', old!.id)).status).toBe(204);
    // Removal through this instance's admin API applies here at once.
    expect((await clientCredentials('service', SERVICE_SECRET)).status).toBe(401);
    expect(f.deps.logs.events('admin.client_secret_removed').at(-1)).toMatchObject({ target: 'service', changes: { secretId: old!.id } });
    const again = await rotate('service', { keepOldFor: 3600 });
    expect(again.status).toBe(201);
    expect(again.body.oldSecretExpiresAt).toBe(new Date(f.deps.clock.now() + 3600_000).toISOString());
    expect((await view('service')).secrets.map((secret) => secret.id).sort()).toEqual([current!.id, again.body.secretId].sort());
  });

  it('keepOldFor 0 replaces at once; so does the older POST /admin/clients/:id/secret', async () => {
    const replaced = await rotate('reports', { keepOldFor: '0' });
    expect(replaced.status).toBe(201);
    expect(replaced.body.oldSecretExpiresAt).toBe(new Date(f.deps.clock.now()).toISOString());
    expect((await clientCredentials('reports', 'reports-secret-with-at-least-32-characters')).status).toBe(401);
    expect((await clientCredentials('reports', replaced.body.secret)).status).toBe(200);
    const legacy = await api().post('/admin/clients/reports/secret').set(bearer(await f.token('root')));
    expect(legacy.status).toBe(200);
    expect((await clientCredentials('reports', replaced.body.secret)).status).toBe(401);
    expect((await clientCredentials('reports', legacy.body.client_secret)).status).toBe(200);
  });

  it.each([
    [{ keepOldFor: 'soon' }, 'keepOldFor'],
    [{ keepOldFor: '367d' }, 'keepOldFor'],
    [{ keepOldFor: -1 }, 'keepOldFor'],
    [{ keepOldFor: 1.5 }, 'keepOldFor'],
    [{ keepOldFor: null }, 'keepOldFor'],
    [{ keepOld: '1d' }, 'keepOld'],
  ])('refuses the body %p (400, naming the field)', async (body, field) => {
    const res = await rotate('reports', body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.details)).toEqual([field]);
  });

  it('refuses a body that is not JSON (415); answers 404 for unknown clients and secrets, 400 for a public client', async () => {
    const form = await api().post('/admin/clients/reports/secrets').set(bearer(await f.token('root'))).type('form').send({ keepOldFor: '1d' });
    expect(form.status).toBe(415);
    expect((await rotate('nobody')).status).toBe(404);
    expect((await rotate('spa')).status).toBe(400);
    expect((await remove('reports', 'cs_nosuchsecret')).status).toBe(404);
    expect((await remove('nobody', 'cs_nosuchsecret')).status).toBe(404);
    expect((await remove('reports', 'not%20an%20id')).status).toBe(404);
  });

  it('refuses to remove the last working secret (409)', async () => {
    const [only] = (await view('reports')).secrets.filter((secret) => secret.notAfter === null);
    const res = await remove('reports', only!.id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'last_secret', error_description: expect.stringMatching(/rotate first/) });
  });

  it('refuses to remove the new secret of an overlap (409): the client would be locked out when the old one ends', async () => {
    const rotated = await rotate('reports', { keepOldFor: '1h' });
    expect(rotated.status).toBe(201);
    const res = await remove('reports', rotated.body.secretId);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'last_secret', error_description: expect.stringMatching(/only secrets that end by/) });
    // The old one may go instead; the new one then stands alone.
    const [old] = (await view('reports')).secrets.filter((secret) => secret.notAfter !== null && secret.id !== rotated.body.secretId);
    expect((await remove('reports', old!.id)).status).toBe(204);
  });

  describe('privileges: the same as rotating a secret (clients:write and the target rule)', () => {
    it('needs a token (401) and clients:write (403)', async () => {
      expect((await api().post('/admin/clients/reports/secrets')).status).toBe(401);
      const reader = await f.token('reader');
      expect((await api().post('/admin/clients/reports/secrets').set(bearer(reader))).status).toBe(403);
      const [secret] = (await view('reports')).secrets;
      expect((await api().delete(`/admin/clients/reports/secrets/${secret!.id}`).set(bearer(reader))).status).toBe(403);
    });

    it('clients:write acts on a client whose scopes it holds, not on one holding more (its tokens would be the actor\'s)', async () => {
      expect((await rotate('reports', { keepOldFor: 0 }, 'clientops')).status).toBe(201);
      // service may have items:read, which clientops does not hold.
      const before = (await view('service')).secrets;
      const refused = await rotate('service', undefined, 'clientops');
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('forbidden_target');
      expect((await remove('service', before[0]!.id, 'clientops')).status).toBe(403);
      expect((await view('service')).secrets).toEqual(before);
    });

    it('a client with privileges (introspection) needs clients:admin, like changing its redirect URIs', async () => {
      const before = (await view('intro')).secrets;
      const refused = await rotate('intro', undefined, 'clientops');
      expect(refused.status).toBe(403);
      expect(refused.body.error_description).toMatch(/only a holder of clients:admin/);
      expect((await view('intro')).secrets).toEqual(before);
      const allowed = await rotate('intro', { keepOldFor: '1h' }, 'clientadmin');
      expect(allowed.status).toBe(201);
      expect((await remove('intro', before[0]!.id, 'clientops')).status).toBe(403);
      expect((await remove('intro', before[0]!.id, 'clientadmin')).status).toBe(204);
    });
  });
});
