import request from 'supertest';
import { hashClientSecret } from '../../src/identity/client-secrets';
import { applyManagedClients, type ManagedClient } from '../../src/identity/managed-clients';
import { apiFixture, type ApiFixture } from '../support/api-fixture';

const FILE = '/etc/portcullis/clients.yaml';
const managed: ManagedClient = {
  id: 'billing',
  type: 'confidential',
  grantTypes: ['client_credentials'],
  scopes: ['reports:read'],
  defaultScopes: [],
  audiences: [],
  corsOrigins: [],
  canIntrospect: false,
  redirectUris: [],
  postLogoutRedirectUris: [],
  requireConsent: false,
  refreshTokenTtlSec: null,
  refreshIdleTtlSec: null,
  refreshTokenInCookie: false,
  secrets: [{ id: 'billing-1', notAfter: null, hash: hashClientSecret('billing-secret-of-at-least-32-characters') }],
};

describe('admin API: clients managed by a clients file', () => {
  let f: ApiFixture;
  const api = () => request(f.app.callback());
  const apply = (clients: readonly ManagedClient[]) => applyManagedClients(f.deps, clients, { managedBy: FILE, prune: false, dryRun: false });

  beforeAll(async () => {
    f = await apiFixture();
    await apply([managed]);
  });
  afterAll(async () => f.deps.cleanup());

  it('refuses every change with 409 naming the file; reading works', async () => {
    const auth = { Authorization: `Bearer ${await f.token('root')}` };
    const attempts = [
      api().patch('/admin/clients/billing').set(auth).send({ scopes: ['reports:*'] }),
      api().delete('/admin/clients/billing').set(auth),
      api().post('/admin/clients/billing/secret').set(auth),
      api().post('/admin/clients/billing/secrets').set(auth),
      api().delete('/admin/clients/billing/secrets/billing-1').set(auth),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: 'managed_client', error_description: `client billing is managed by the clients file ${FILE}: change it there` });
    }
    const read = await api().get('/admin/clients/billing').set(auth);
    expect(read.status).toBe(200);
    expect(read.body.scopes).toEqual(['reports:read']);
  });

  it('a client the file no longer declares is released: the admin API may change it again', async () => {
    await apply([]);
    const res = await api().patch('/admin/clients/billing').set({ Authorization: `Bearer ${await f.token('root')}` }).send({ name: 'Billing' });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Billing');
  });
});
