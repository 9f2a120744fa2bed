import type { StoreConnection, TokenStores } from '../connection';
import { MemoryBrowserSessions } from './memory-browser-sessions';
import { MemoryCodes } from './memory-codes';
import { MemoryFamilies } from './memory-families';
import { MemoryRevocations } from './memory-revocations';

/** This process as the stores' backend: closing it forgets everything they hold. */
export class MemoryConnection implements StoreConnection {
  readonly kind = 'memory' as const;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  async ping(): Promise<void> {
    if (this.closed) throw new Error('memory store is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onClose();
  }
}

/**
 * In-process token state for development and single-process demos. State lives in this
 * process only: two instances would not see each other's revocations. Production refuses it.
 */
export function memoryTokenStores(): TokenStores {
  const families = new MemoryFamilies();
  const revocations = new MemoryRevocations(families);
  const codes = new MemoryCodes();
  const browserSessions = new MemoryBrowserSessions();
  const storage = new MemoryConnection(() => {
    revocations.clear();
    families.clear();
    codes.clear();
    browserSessions.clear();
  });
  return { storage, families, revocations, codes, browserSessions };
}
