import type { Clock } from './clock';
import type { Config } from './config/config';
import type { Database, DatabaseTarget } from './db/database';
import type { Passwords } from './identity/passwords';
import type { Logger } from './logging/logger';
import type { TokenStore } from './store/token-store';
import type { ThrottleStore } from './store/throttle';
import type { Keyring } from './tokens/keyring';

/** Everything a request handler may use, built once by main.ts (or by a test) and passed down. */
export interface Deps {
  readonly config: Config;
  readonly db: Database;
  readonly dbKind: DatabaseTarget['kind'];
  readonly store: TokenStore;
  /** Failed-credential counters (issue 12); on the same Redis connection as `store`. */
  readonly throttle: ThrottleStore;
  readonly passwords: Passwords;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly clock: Clock;
}
