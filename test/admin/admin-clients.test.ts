import request from 'supertest';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { basic } from '../support/oauth-fixture';

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
    expect(f.deps.logs.events('admin.client_created').at(-1)).toMatchObject({ actorUsername: 'clientadmin', target: 'reports' });
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
});
