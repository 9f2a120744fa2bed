import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '../../src/identity/clients';
import { Passwords } from '../../src/identity/passwords';
import { createUser } from '../../src/identity/users';
import { generateJwk } from '../../src/tokens/generate';
import { createTestDatabase, missingBackend, postgresUrl, redisUrl, tempDir, testConfig, uniqueName } from '../support/env';
import { RESOURCE_SERVICE, runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

// The whole estate as separate processes: Portcullis on real Redis and PostgreSQL, and the
// example items API twice, once verifying locally from the JWKS and once by introspection.

const ISSUER = 'https://auth.portcullis.test';
const RS_SECRET = 'resource-server-secret-for-the-e2e-test-000000';
/** The items API's identifier: Portcullis's DEFAULT_AUDIENCE, and the verifiers' `audience`. */
const AUDIENCE = 'https://items.test';

interface Estate {
  auth: ServiceProcess;
  jwks: ServiceProcess;
  introspecting: ServiceProcess;
  keyFile: string;
  cliEnv: Record<string, string>;
  stop(): Promise<void>;
}

async function startEstate(): Promise<Estate> {
  const database = await createTestDatabase('postgres');
  const config = testConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
  const now = new Date();
  await createUser(database.db, { username: 'alice', passwordHash: await new Passwords(config.argon2).hash('alice-password'), scopes: ['items:read', 'items:write'] }, now);
  await createClient(database.db, { id: 'spa', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:*'], defaultScopes: ['items:read'] }, now);
  await createClient(database.db, { id: 'items-api', type: 'confidential', secret: RS_SECRET, grantTypes: ['client_credentials'], scopes: [], canIntrospect: true }, now);
  await database.db.destroy();

  const dir = tempDir();
  const keyFile = path.join(dir, 'signing-keys.json');
  writeFileSync(keyFile, JSON.stringify({ keys: [generateJwk('ES256', 'first', 'active')] }));
  const cliEnv = { DATABASE_URL: database.url!, REDIS_URL: redisUrl()!, REDIS_KEY_PREFIX: `${uniqueName('estate')}:`, MIGRATE_ON_START: 'false' };
  const auth = await startServiceProcess({ ...cliEnv, DATA_DIR: dir, ISSUER, SIGNING_KEYS_FILE: keyFile, DEFAULT_AUDIENCE: AUDIENCE });
  const common = { PORT: '0', PORTCULLIS_ISSUER: ISSUER, PORTCULLIS_URL: auth.url, AUDIENCE };
  const [jwks, introspecting] = await Promise.all([
    startServiceProcess({ ...common, VERIFIER_MODE: 'jwks', JWKS_COOLDOWN_MS: '0' }, 30_000, [RESOURCE_SERVICE]),
    startServiceProcess({ ...common, VERIFIER_MODE: 'introspect', CLIENT_ID: 'items-api', CLIENT_SECRET: RS_SECRET }, 30_000, [RESOURCE_SERVICE]),
  ]);
  return {
    auth,
    jwks,
    introspecting,
    keyFile,
    cliEnv,
    stop: async () => {
      for (const service of [auth, jwks, introspecting]) service.child.kill('SIGTERM');
      await Promise.all([auth, jwks, introspecting].map((service) => service.exited()));
      await database.drop();
    },
  };
}

if (!redisUrl() || !postgresUrl()) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe('a resource-service estate: Portcullis, Redis, PostgreSQL and the items API as processes', () => {
    let estate: Estate;

    beforeAll(async () => {
      estate = await startEstate();
    }, 60_000);
    afterAll(async () => estate?.stop());

    const form = (url: string, body: Record<string, string>, authorization?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) }, body: new URLSearchParams(body) });
    const login = async () => {
      const res = await form(`${estate.auth.url}/oauth/token`, { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read items:write' });
      expect(res.status).toBe(200);
      return (await res.json()) as { access_token: string; refresh_token: string };
    };
    const items = async (service: ServiceProcess, token: string) => (await fetch(`${service.url}/items`, { headers: { authorization: `Bearer ${token}` } })).status;
    const introspection = async (token: string) =>
      ((await (await form(`${estate.auth.url}/oauth/introspect`, { token }, `Basic ${Buffer.from(`items-api:${RS_SECRET}`).toString('base64')}`)).json()) as { active: boolean }).active;
    // As a gateway in front of the items API asks: for its audience and the scope of the route.
    const verify = (token: string, audience = AUDIENCE) => fetch(`${estate.auth.url}/oauth/verify?scope=items:read&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${token}` } });
    const forwardAuth = async (token: string) => (await verify(token)).status;

    it('serves the items API to a logged-in user through both verifier modes', async () => {
      const { access_token: token } = await login();
      expect(await items(estate.jwks, token)).toBe(200);
      expect(await items(estate.introspecting, token)).toBe(200);
      expect(await introspection(token)).toBe(true);
      expect(await forwardAuth(token)).toBe(204);
      const created = await fetch(`${estate.jwks.url}/items`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'lamp' }) });
      expect(created.status).toBe(201);
    });

    it('names the subject type and audience at forward-auth and in both verifier modes, and refuses another audience', async () => {
      const { access_token: token } = await login();
      const verified = await verify(token);
      expect(verified.status).toBe(204);
      expect(verified.headers.get('x-auth-subject-type')).toBe('user');
      expect(verified.headers.get('x-auth-audience')).toBe(AUDIENCE);
      expect((await verify(token, 'https://billing.test')).status).toBe(403);
      for (const service of [estate.jwks, estate.introspecting]) {
        const whoami = await fetch(`${service.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
        expect(whoami.status).toBe(200);
        expect(await whoami.json()).toMatchObject({ subjectType: 'user', username: 'alice', clientId: 'spa' });
      }
    });

    it('refuses a revoked token at once at introspection, forward-auth and the introspecting service', async () => {
      const { access_token: token } = await login();
      expect(await items(estate.introspecting, token)).toBe(200);
      expect((await form(`${estate.auth.url}/oauth/revoke`, { token, client_id: 'spa' })).status).toBe(200);
      expect(await introspection(token)).toBe(false);
      expect(await forwardAuth(token)).toBe(401);
      expect(await items(estate.introspecting, token)).toBe(401);
      // Local verification cannot see revocation: the JWT stays valid there until it expires.
      // That is the documented trade-off of jwks mode (short ACCESS_TOKEN_TTL bounds it).
      expect(await items(estate.jwks, token)).toBe(200);
    });

    it('refuses the tokens of a user disabled with the CLI at once, and their refresh token', async () => {
      const { access_token: token, refresh_token: refresh } = await login();
      expect(await items(estate.introspecting, token)).toBe(200);
      const disabled = await runCli(['user', 'disable', 'alice'], estate.cliEnv);
      expect(disabled.code).toBe(0);
      try {
        expect(await introspection(token)).toBe(false);
        expect(await forwardAuth(token)).toBe(401);
        expect(await items(estate.introspecting, token)).toBe(401);
        const refreshed = await form(`${estate.auth.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refresh });
        expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');
      } finally {
        expect((await runCli(['user', 'enable', 'alice'], estate.cliEnv)).code).toBe(0);
      }
    });

    it('follows a key rotation in jwks mode, without a restart of anything', async () => {
      const before = await login();
      expect(await items(estate.jwks, before.access_token)).toBe(200);
      const first = (JSON.parse(readFileSync(estate.keyFile, 'utf8')) as { keys: object[] }).keys[0]!;
      writeFileSync(estate.keyFile, JSON.stringify({ keys: [{ ...first, state: 'retired' }, generateJwk('EdDSA', 'second', 'active')] }));
      estate.auth.child.kill('SIGHUP');
      await until(async () => ((await (await fetch(`${estate.auth.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys.length === 2);
      const after = await login();
      expect(JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: 'second', alg: 'EdDSA' });
      expect(await items(estate.jwks, after.access_token)).toBe(200);
      expect(await items(estate.jwks, before.access_token)).toBe(200);
      expect(await items(estate.introspecting, after.access_token)).toBe(200);
    });
  });
}
