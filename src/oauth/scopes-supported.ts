import type { Database } from '../db/database';
import { isDatabaseOutage } from '../db/outage';
import { reusedRead, type ReusedRead } from '../reused-read';

/** Every scope a role or a client names: RFC 8414's `scopes_supported`. */
async function readScopes(db: Database): Promise<readonly string[]> {
  const result = await db.raw<{ rows: Array<{ scope: string }> }>('select scope from role_scopes union select unnest(scopes) from clients order by 1');
  return result.rows.map((row) => row.scope);
}

/**
 * `scopes_supported` for the discovery document, read at most once per `ttlMs` (one read at a
 * time: reused-read.ts), and the last list while the database is down. The document is public
 * and unauthenticated: read per request, anyone could turn it into a database query each
 * (outside round), and an outage made a static document a 503.
 */
export class ScopesSupported {
  private readonly read: ReusedRead<readonly string[]>;

  constructor(db: Database, ttlMs: number, now?: () => number) {
    this.read = reusedRead(() => readScopes(db), ttlMs, now);
  }

  async get(): Promise<readonly string[]> {
    try {
      return await this.read();
    } catch (error) {
      const last = this.read.last;
      if (last !== undefined && isDatabaseOutage(error)) return last;
      throw error;
    }
  }
}
