import type { Config } from '../../src/config/config';
import type { Database } from '../../src/db/database';
import { migrateLatest } from '../../src/db/migrate';
import type { Deps } from '../../src/deps';
import { createEvents } from '../../src/events/create-events';
import { createClient } from '../../src/identity/clients';
import { Passwords } from '../../src/identity/passwords';
import { registerUser } from '../../src/identity/user-lifecycle';
import type { Logger } from '../../src/logging/logger';
import { memoryTokenStores } from '../../src/store/memory/memory-store';
import { MemoryThrottleStore } from '../../src/store/memory/memory-throttle';
import { generateJwk } from '../../src/tokens/generate';
import { Keyring, parseKeySet } from '../../src/tokens/keyring';
import { FakeClock } from './clock';
import { RS_SECRET, SERVICE_SECRET } from './oauth-fixture';

/**
 * The service's dependencies on a PostgreSQL the test will stop or freeze (database-outage and
 * database-hang tests), the token state in memory so that only the database fails: migrated, with
 * alice (items:read), the public `spa` (password, refresh), the introspecting `rs` and `service`.
 */
export async function outageDeps(db: Database, config: Config, log: Logger): Promise<Deps> {
  await migrateLatest(db);
  const deps: Deps = {
    config,
    db,
    dbKind: 'postgres',
    ...memoryTokenStores(),
    throttle: new MemoryThrottleStore(),
    passwords: new Passwords(config.argon2),
    keyring: new Keyring(parseKeySet(JSON.stringify({ keys: [generateJwk('ES256', 'test-key', 'active')] }))),
    log,
    events: createEvents(log),
    clock: new FakeClock(),
  };
  const now = new Date(deps.clock.now());
  await registerUser(deps, { username: 'alice', password: 'alice-password', scopes: ['items:read'] });
  await createClient(db, { id: 'spa', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'] }, now);
  await createClient(db, { id: 'rs', type: 'confidential', secret: RS_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true }, now);
  await createClient(db, { id: 'service', type: 'confidential', secret: SERVICE_SECRET, grantTypes: ['client_credentials'], scopes: ['items:read'] }, now);
  return deps;
}
