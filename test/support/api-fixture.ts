import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import type { TestDeps } from './deps';
import { ISSUER, oauthFixture } from './oauth-fixture';

/** Who the account and admin tests act as: each user's scopes, granted through `console`. */
export const ACTORS = {
  root: ['admin'],
  ops: ['users:read', 'users:write'],
  reader: ['users:read:own'],
  remover: ['users:delete'],
  clientops: ['clients:read', 'clients:write', 'reports:*'],
  clientadmin: ['clients:read', 'clients:write', 'clients:admin', 'reports:*'],
} as const;

export interface ApiFixture {
  readonly deps: TestDeps;
  readonly app: Koa<AppState>;
  /** A password-grant login through the `console` client: access and refresh token. */
  login(username: string, password?: string, scope?: string): Promise<{ access_token: string; refresh_token: string }>;
  token(username: keyof typeof ACTORS | 'alice'): Promise<string>;
}

export async function apiFixture(): Promise<ApiFixture> {
  const { deps, app } = await oauthFixture();
  await createClient(deps.db, { id: 'console', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['admin', 'users:*', 'clients:*', 'items:*', 'reports:*'], audiences: [ISSUER] }, new Date(deps.clock.now()));
  for (const [username, scopes] of Object.entries(ACTORS)) await registerUser(deps, { username, password: `${username}-password`, scopes: [...scopes] });
  // The account and admin APIs take tokens issued for this service's own API: resource=ISSUER.
  const login = async (username: string, password = `${username}-password`, scope?: string) => {
    const res = await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username, password, resource: ISSUER, ...(scope ? { scope } : {}) });
    if (res.status !== 200) throw new Error(`login of ${username} failed: ${JSON.stringify(res.body)}`);
    return res.body as { access_token: string; refresh_token: string };
  };
  const token = async (username: keyof typeof ACTORS | 'alice') => (await login(username, `${username}-password`, username === 'alice' ? 'items:read items:write' : ACTORS[username].join(' '))).access_token;
  return { deps, app, login, token };
}
