import { LRUCache } from 'lru-cache';
import type { Database } from '../db/database';

/**
 * The browser origins any client is registered with (`corsOrigins`), for CORS: read from the
 * database at most once per `ttlMs` (CLIENT_CACHE_TTL), concurrent misses sharing one query.
 */
export class OriginCache {
  private readonly cache: LRUCache<'origins', ReadonlySet<string>>;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
  ) {
    this.cache = new LRUCache<'origins', ReadonlySet<string>>({
      max: 1,
      ttl: Math.max(ttlMs, 1),
      fetchMethod: () => this.load(),
    });
  }

  async allows(origin: string): Promise<boolean> {
    const origins = this.ttlMs > 0 ? await this.cache.fetch('origins') : await this.load();
    return origins?.has(origin) ?? false;
  }

  clear(): void {
    this.cache.clear();
  }

  private async load(): Promise<ReadonlySet<string>> {
    const result = await this.db.raw<{ rows: Array<{ origin: string }> }>('select distinct unnest(cors_origins) as origin from clients');
    return new Set(result.rows.map((row) => row.origin));
  }
}
