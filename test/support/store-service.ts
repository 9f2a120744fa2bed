import type { Deps } from '../../src/deps';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';

// The small estate of the tests that run the whole service on a Redis deployment they control
// (an outage, a Sentinel failover): one user, a public app and a resource server.
export const RS_SECRET = 'resource-server-secret-with-32-characters-or-more';
export const PASSWORD = 'carol-password';

/** carol (items:read), the public client `app` (password + refresh) and the introspecting `rs`. */
export async function seedStoreService(deps: Deps): Promise<void> {
  const now = new Date(deps.clock.now());
  await registerUser(deps, { username: 'carol', password: PASSWORD, scopes: ['items:read'] });
  await createClient(deps.db, { id: 'app', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'] }, now);
  await createClient(deps.db, { id: 'rs', type: 'confidential', secret: RS_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true }, now);
}
