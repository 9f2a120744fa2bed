import type { Deps } from '../deps';
import { createClient } from './clients';
import { redirectUriProblem } from './redirect-uris';
import { registerUser } from './user-lifecycle';

/** The demo-api client's secret: published in README, so it exists only in the embedded database. */
export const DEMO_API_SECRET = 'demo-api-secret-for-local-development-only';

/** The code-flow demo client, which the interactive docs (/docs) sign in with in development. */
export const DEMO_CODE_CLIENT_ID = 'demo-spa-code';

/** Where the docs' Authorize button comes back to (Swagger UI's redirect page, served by http/routes/docs.ts). */
export function docsRedirectUri(issuer: string): string {
  return `${issuer}/docs/oauth2-redirect.html`;
}

/** Whether this configuration gets the demo data (and the docs the demo client). */
export function demoDataEnabled(config: Pick<Deps['config'], 'databaseUrl' | 'production'>): boolean {
  return config.databaseUrl === undefined && !config.production;
}

const DEMO_SPA_SCOPES = ['items:read', 'items:write', 'items:delete', 'users:read', 'users:read:own', 'users:write', 'users:write:own', 'users:delete'];

/**
 * The seed chapter's users and three clients, created when the embedded PGlite database has no
 * users yet, so `npm start` gives something to log in with. Their passwords and the demo-api
 * secret are published, so a database named by DATABASE_URL never gets them: it is a real one
 * (shared, backed up, perhaps reachable) whatever NODE_ENV says.
 */
export async function seedDemoData(deps: Pick<Deps, 'config' | 'db' | 'passwords' | 'clock' | 'log'>): Promise<boolean> {
  if (!demoDataEnabled(deps.config)) return false;
  const existing = await deps.db('users').count<Array<{ count: string | number }>>({ count: '*' });
  if (Number(existing[0]?.count ?? 0) > 0) return false;

  await registerUser(deps, { username: 'alice', password: 'secret123', fullName: 'Alice Wonderson', email: 'alice@example.com', scopes: ['items:read', 'items:write', 'users:read'] });
  await registerUser(deps, { username: 'bob', password: 'builder456', fullName: 'Bob Builder', email: 'bob@example.com', scopes: ['users:read'] });
  await registerUser(deps, { username: 'admin', password: 'adminsecret', fullName: 'Administrator', roles: ['admin'] });
  const now = new Date(deps.clock.now());
  await createClient(
    deps.db,
    {
      id: 'demo-spa',
      name: 'Demo single-page app',
      type: 'public',
      grantTypes: ['password', 'refresh_token'],
      scopes: DEMO_SPA_SCOPES,
      defaultScopes: ['items:read'],
      corsOrigins: ['http://localhost:5173'],
    },
    now,
  );
  // The same app signing in the way RFC 9700 recommends for SPAs: the authorization code flow
  // with PKCE, the password typed on this service's page, never into the app.
  await createClient(
    deps.db,
    {
      id: DEMO_CODE_CLIENT_ID,
      name: 'Demo SPA (code flow)',
      type: 'public',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: DEMO_SPA_SCOPES,
      defaultScopes: ['items:read'],
      // The docs' Authorize button too, when ISSUER is a URI that may be registered (https:, or
      // http: on a loopback host): the development database only, like the rest of this data.
      redirectUris: ['http://localhost:5173/callback.html', ...(redirectUriProblem(docsRedirectUri(deps.config.issuer)) === undefined ? [docsRedirectUri(deps.config.issuer)] : [])],
      postLogoutRedirectUris: ['http://localhost:5173/'],
      corsOrigins: ['http://localhost:5173'],
    },
    now,
  );
  await createClient(
    deps.db,
    { id: 'demo-api', name: 'Demo resource service', type: 'confidential', secret: DEMO_API_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read'], defaultScopes: ['items:read'], canIntrospect: true },
    now,
  );
  deps.log.warn({ event: 'demo.seeded', users: ['alice', 'bob', 'admin'], clients: ['demo-spa', 'demo-spa-code', 'demo-api'] }, 'created demo users and clients (development only)');
  return true;
}
