import type { BrowserSessionStore } from './browser-sessions';
import type { CodeStore } from './codes';
import type { FamilyStore } from './families';
import type { RevocationStore } from './revocations';

/** Told of each backend command (the metrics): its name, how long it took, whether it failed. */
export type CommandObserver = (command: string, seconds: number, failed: boolean) => void;

/** The backend behind the token-state stores, as readiness, shutdown and the metrics see it. */
export interface StoreConnection {
  readonly kind: 'redis' | 'memory';
  /** Resolves when the backend answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the backend every store on it shares. */
  close(): Promise<void>;
  /** Times every command sent to the backend from now on; returns the function that stops it.
   *  Absent where there is no backend to call (the in-process store). */
  observeCommands?(observer: CommandObserver): () => void;
}

/** The token-state stores on one backend (one Redis connection, or this process). */
export interface TokenStores {
  readonly storage: StoreConnection;
  readonly families: FamilyStore;
  readonly revocations: RevocationStore;
  readonly codes: CodeStore;
  readonly browserSessions: BrowserSessionStore;
}
