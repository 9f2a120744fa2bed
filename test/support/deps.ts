import type { Clock } from '../../src/clock';
import type { Config } from '../../src/config/config';
import type { Deps } from '../../src/deps';
import { Passwords } from '../../src/identity/passwords';
import { createEvents } from '../../src/events/create-events';
import { createLogger } from '../../src/logging/logger';
import { generateJwk } from '../../src/tokens/generate';
import { Keyring, parseKeySet } from '../../src/tokens/keyring';
import { createTestBackend, createTestDatabase, testConfig, type DatabaseKind, type StoreKind } from './env';
import { FakeClock } from './clock';
import { LogCapture } from './logs';

export interface TestDeps extends Deps {
  readonly logs: LogCapture;
  cleanup(): Promise<void>;
}

export interface TestDepsOptions {
  readonly db?: DatabaseKind;
  readonly store?: StoreKind;
  readonly config?: Config;
  readonly clock?: Clock;
}

/** Dependencies as main.ts builds them, on the requested real backends, with captured logs. */
export async function createTestDeps(options: TestDepsOptions = {}): Promise<TestDeps> {
  const config = options.config ?? testConfig({ LOG_LEVEL: 'info', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
  const logs = new LogCapture();
  const log = createLogger(config.logLevel, logs);
  const database = await createTestDatabase(options.db ?? 'pglite');
  const { stores, throttle } = await createTestBackend(options.store ?? 'memory');
  const events = createEvents(log, { auditLogFile: config.auditLogFile });
  return {
    config,
    db: database.db,
    dbKind: options.db ?? 'pglite',
    storage: stores.storage,
    families: stores.families,
    revocations: stores.revocations,
    codes: stores.codes,
    browserSessions: stores.browserSessions,
    throttle,
    passwords: new Passwords(config.argon2),
    keyring: new Keyring(parseKeySet(JSON.stringify({ keys: [generateJwk('ES256', 'test-key', 'active')] }))),
    log,
    events,
    clock: options.clock ?? new FakeClock(),
    logs,
    cleanup: async () => {
      events.close();
      await stores.storage.close();
      await database.drop();
    },
  };
}
