import type { Clock } from './clock';
import type { Config } from './config/config';
import type { Database, DatabaseTarget } from './db/database';
import type { EventHub } from './events/hub';
import type { Passwords } from './identity/passwords';
import type { Logger } from './logging/logger';
import type { BrowserSessionStore } from './store/browser-sessions';
import type { CodeStore } from './store/codes';
import type { StoreConnection } from './store/connection';
import type { FamilyStore } from './store/families';
import type { RevocationFeed } from './store/revocation-feed';
import type { RevocationStore } from './store/revocations';
import type { ThrottleStore } from './store/throttle';
import type { Keyring } from './tokens/keyring';

/** Everything a request handler may use, built once by main.ts (or by a test) and passed down. */
export interface Deps {
  readonly config: Config;
  readonly db: Database;
  readonly dbKind: DatabaseTarget['kind'];
  /** The backend the stores below share (one Redis connection): readiness and shutdown. */
  readonly storage: StoreConnection;
  /** Refresh-token families (logins). */
  readonly families: FamilyStore;
  /** Access-token blacklist and user/client revocation epochs: the hot-path read. */
  readonly revocations: RevocationStore;
  /** Revocations as they are written, for GET /oauth/revocations (issue 17); absent, the route answers 404. */
  readonly revocationFeed?: RevocationFeed;
  /** Authorization codes waiting for their token request (issue 14). */
  readonly codes: CodeStore;
  /** The hosted login page's sign-ins, by cookie (issue 14); not refresh-token families. */
  readonly browserSessions: BrowserSessionStore;
  /** Failed-credential counters (issue 12); on the same connection as the stores above. */
  readonly throttle: ThrottleStore;
  readonly passwords: Passwords;
  readonly keyring: Keyring;
  readonly log: Logger;
  /** Security-relevant facts, emitted once where they happen (events/catalogue.ts); the log,
   *  the audit trail and the metrics subscribe. */
  readonly events: EventHub;
  readonly clock: Clock;
}
