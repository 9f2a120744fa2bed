import { LRUCache } from 'lru-cache';
import type { Database } from '../db/database';

interface Origins {
  /** Every client's `corsOrigins`. */
  readonly all: ReadonlySet<string>;
  /** Those of cookie-mode clients (refreshTokenInCookie): the only pages that may send a cookie. */
  readonly withCookie: ReadonlySet<string>;
}

/**
 * The browser origins any client is registered with (`corsOrigins`), for CORS: read from the
 * database at most once per `ttlMs` (CLIENT_CACHE_TTL), concurrent misses sharing one query.
 */
export class OriginCache {
  private readonly cache: LRUCache<'origins', Origins>;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
  ) {
    this.cache = new LRUCache<'origins', Origins>({
      max: 1,
      ttl: Math.max(ttlMs, 1),
      fetchMethod: () => this.load(),
    });
  }

  async allows(origin: string): Promise<boolean> {
    return (await this.origins())?.all.has(origin) ?? false;
  }

  /** Whether a page of this origin may send credentials (cookie mode's refresh cookie). */
  async allowsCredentials(origin: string): Promise<boolean> {
    return (await this.origins())?.withCookie.has(origin) ?? false;
  }

  private async origins(): Promise<Origins | undefined> {
    return this.ttlMs > 0 ? this.cache.fetch('origins') : this.load();
  }

  clear(): void {
    this.cache.clear();
  }

  private async load(): Promise<Origins> {
    const result = await this.db.raw<{ rows: Array<{ origin: string; cookie: boolean }> }>('select distinct unnest(cors_origins) as origin, refresh_token_in_cookie as cookie from clients');
    return { all: new Set(result.rows.map((row) => row.origin)), withCookie: new Set(result.rows.filter((row) => row.cookie).map((row) => row.origin)) };
  }
}
