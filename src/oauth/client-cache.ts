import { LRUCache } from 'lru-cache';
import type { Database } from '../db/database';
import { findClient, type ClientWithSecret } from '../identity/clients';

/** Unknown ids are remembered for a shorter time, so a new client is usable soon. */
const NEGATIVE_TTL_MS = 2000;

interface Entry {
  readonly client: ClientWithSecret | undefined;
}

/**
 * Clients for the token, introspection and revocation endpoints: the database is asked at most
 * once per client id per `ttlMs`, and concurrent misses share one query (lru-cache's fetch). A
 * client deleted or given a new secret elsewhere (another instance, the CLI) is therefore refused
 * within `ttlMs` (CLIENT_CACHE_TTL); changes through this instance's admin API clear it at once.
 */
export class ClientCache {
  private readonly cache: LRUCache<string, Entry>;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    max = 1000,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max,
      ttl: Math.max(ttlMs, 1),
      fetchMethod: async (id, _stale, { options }) => {
        const client = await findClient(db, id);
        if (!client) options.ttl = Math.min(NEGATIVE_TTL_MS, Math.max(ttlMs, 1));
        return { client };
      },
    });
  }

  readonly find = async (id: string): Promise<ClientWithSecret | undefined> => {
    if (this.ttlMs <= 0) return findClient(this.db, id);
    return (await this.cache.fetch(id))?.client;
  };

  clear(): void {
    this.cache.clear();
  }
}
