import { loadConfig } from '../../src/config/config';
import { verifyClientSecret } from '../../src/identity/client-secrets';
import { findClient } from '../../src/identity/clients';
import { DEMO_API_SECRET, seedDemoData } from '../../src/identity/demo-data';
import { authenticate } from '../../src/identity/authenticate';
import { effectiveScopes, findUserByUsername } from '../../src/identity/users';
import { buildDeps, closeDeps } from '../../src/main';
import type { Deps } from '../../src/deps';
import { LogCapture } from '../support/logs';
import { createTestDatabase, tempDir } from '../support/env';

describe('demo data for the embedded default', () => {
  let deps: Deps;
  const logs = new LogCapture();

  beforeAll(async () => {
    deps = await buildDeps(loadConfig({ DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }), { logDestination: logs });
  });
  afterAll(async () => closeDeps(deps));

  it("creates the seed chapter's users with their scopes", async () => {
    const now = new Date();
    const alice = await authenticate(deps, 'alice', 'secret123', now);
    expect(await effectiveScopes(deps.db, alice!.id)).toEqual(['items:read', 'items:write', 'users:read']);
    const bob = await authenticate(deps, 'bob', 'builder456', now);
    expect(await effectiveScopes(deps.db, bob!.id)).toEqual(['users:read']);
    const admin = await authenticate(deps, 'admin', 'adminsecret', now);
    expect(admin?.roles).toEqual(['admin']);
    expect(logs.events('demo.seeded')).toHaveLength(1);
  });

  it('creates a public SPA client and a confidential resource-service client that may introspect', async () => {
    expect(await findClient(deps.db, 'demo-spa')).toMatchObject({ type: 'public', grantTypes: ['password', 'refresh_token'], secrets: [] });
    const api = (await findClient(deps.db, 'demo-api'))!;
    expect(api).toMatchObject({ type: 'confidential', grantTypes: ['client_credentials'], canIntrospect: true });
    expect(api.secrets).toHaveLength(1);
    expect(verifyClientSecret(DEMO_API_SECRET, api.secrets[0]!.hash)).toBe(true);
  });

  it('creates a code-flow twin of the SPA client, with the same scopes, and leaves demo-spa on the password grant', async () => {
    const spa = (await findClient(deps.db, 'demo-spa'))!;
    expect(spa).toMatchObject({ grantTypes: ['password', 'refresh_token'], redirectUris: [], corsOrigins: ['http://localhost:5173'] });
    expect(await findClient(deps.db, 'demo-spa-code')).toMatchObject({
      name: 'Demo SPA (code flow)',
      type: 'public',
      secrets: [],
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: spa.scopes,
      defaultScopes: spa.defaultScopes,
      redirectUris: ['http://localhost:5173/callback.html', 'http://localhost:8080/docs/oauth2-redirect.html'],
      postLogoutRedirectUris: ['http://localhost:5173/'],
      corsOrigins: ['http://localhost:5173'],
      requireConsent: false,
    });
    expect(logs.events('demo.seeded')[0]).toMatchObject({ clients: ['demo-spa', 'demo-spa-code', 'demo-api'] });
  });

  it('does nothing when users exist', async () => {
    await expect(seedDemoData(deps)).resolves.toBe(false);
  });

  it('never runs in production', async () => {
    await deps.db('clients').del();
    await deps.db('users').del();
    const production = { ...deps, config: { ...deps.config, production: true } };
    await expect(seedDemoData(production)).resolves.toBe(false);
    expect(await findUserByUsername(deps.db, 'alice')).toBeUndefined();
  });

  it('never runs against a database named by DATABASE_URL, whatever NODE_ENV says', async () => {
    await deps.db('clients').del();
    await deps.db('users').del();
    const named = { ...deps, config: { ...deps.config, databaseUrl: 'postgres://u@db.example.com/portcullis' } };
    expect(named.config.production).toBe(false);
    await expect(seedDemoData(named)).resolves.toBe(false);
    expect(await findUserByUsername(deps.db, 'admin')).toBeUndefined();
  });
});

// Issue 11: NODE_ENV unset (development) with a real DATABASE_URL wrote the published demo
// credentials into that database. A DATABASE_URL names a real database, whatever NODE_ENV says.
describe('demo data and a database named by DATABASE_URL', () => {
  it('is never written, even with NODE_ENV unset and migrations on start', async () => {
    const database = await createTestDatabase('postgres', { migrate: false });
    const logs = new LogCapture();
    const deps = await buildDeps(loadConfig({ DATABASE_URL: database.url, DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }), { logDestination: logs });
    try {
      expect(deps.config.production).toBe(false);
      expect(deps.config.migrateOnStart).toBe(true);
      expect(await deps.db('users').count<Array<{ count: string }>>({ count: '*' })).toEqual([{ count: '0' }]);
      expect(await findClient(deps.db, 'demo-api')).toBeUndefined();
      expect(logs.events('demo.seeded')).toHaveLength(0);
    } finally {
      await closeDeps(deps);
      await database.drop();
    }
  });
});
