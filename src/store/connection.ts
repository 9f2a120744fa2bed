import type { BrowserSessionStore } from './browser-sessions';
import type { CodeStore } from './codes';
import type { FamilyStore } from './families';
import type { RevocationStore } from './revocations';

/** The backend behind the token-state stores, as readiness and shutdown see it. */
export interface StoreConnection {
  readonly kind: 'redis' | 'memory';
  /** Resolves when the backend answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the backend every store on it shares. */
  close(): Promise<void>;
}

/** The token-state stores on one backend (one Redis connection, or this process). */
export interface TokenStores {
  readonly storage: StoreConnection;
  readonly families: FamilyStore;
  readonly revocations: RevocationStore;
  readonly codes: CodeStore;
  readonly browserSessions: BrowserSessionStore;
}
