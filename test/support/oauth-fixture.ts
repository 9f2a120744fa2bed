import type Koa from 'koa';
import type { Clock } from '../../src/clock';
import request from 'supertest';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import { createTestDeps, type TestDeps } from './deps';
import { databaseKinds, storeKinds, testConfig, type StoreKind } from './env';

export const SERVICE_SECRET = 'service-secret-with-at-least-32-characters!';
/** A resource server's credentials: a confidential client allowed to introspect. */
export const RS_SECRET = 'resource-server-secret-with-32-characters-or-more';
export const ISSUER = 'https://auth.example.test';

/** An app with the users and clients most token tests need, on the fastest real backends. */
export async function oauthFixture(
  env: Record<string, string> = {},
  { store = storeKinds().at(-1), clock }: { store?: StoreKind | undefined; clock?: Clock } = {},
): Promise<{ deps: TestDeps; app: Koa<AppState> }> {
  const config = testConfig({ LOG_LEVEL: 'info', ISSUER, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', DEFAULT_AUDIENCE: 'https://api.example.test', ...env });
  const deps = await createTestDeps({ config, db: databaseKinds().at(-1), store, ...(clock ? { clock } : {}) });
  const now = new Date(deps.clock.now());
  await registerUser(deps, { username: 'alice', password: 'alice-password', scopes: ['items:read', 'items:write', 'users:read'] });
  await registerUser(deps, { username: 'mod', password: 'mod-password', roles: ['moderator'] });
  await createClient(deps.db, { id: 'spa', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:*', 'users:read', 'users:read:own'], defaultScopes: ['items:read', 'users:read:own'], audiences: ['https://items.example.test'] }, now);
  await createClient(deps.db, { id: 'rs', type: 'confidential', secret: RS_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true }, now);
  await createClient(deps.db, { id: 'mobile', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:*'], defaultScopes: ['items:read'] }, now);
  await createClient(deps.db, { id: 'service', type: 'confidential', secret: SERVICE_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read', 'reports:*'], defaultScopes: ['items:read'], audiences: ['https://items.example.test'] }, now);
  await createClient(deps.db, { id: 'weird.id~_-', type: 'confidential', secret: 'a:secret with spaces & symbols %+/ 0123456789', grantTypes: ['client_credentials', 'password'], scopes: ['items:read'] }, now);
  return { deps, app: createApp(deps) };
}

/** Verifies like a resource service would: jose, the published JWKS, typ/iss/aud/exp checked
 *  (at the fixture clock's time). */
export async function verifyAccessToken(
  { app, deps }: { app: Koa<AppState>; deps: Pick<TestDeps, 'clock'> },
  token: string,
  audience: string | string[] = 'https://api.example.test',
): Promise<JWTPayload> {
  const jwks = (await request(app.callback()).get('/.well-known/jwks.json')).body;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    typ: 'at+jwt',
    issuer: ISSUER,
    audience,
    algorithms: ['ES256', 'EdDSA', 'RS256'],
    currentDate: new Date(deps.clock.now()),
  });
  return payload;
}

export function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}
