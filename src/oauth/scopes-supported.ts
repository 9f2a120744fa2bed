import type { Database } from '../db/database';
import { isDatabaseOutage } from '../db/outage';

/** Every scope a role or a client names: RFC 8414's `scopes_supported`. */
async function readScopes(db: Database): Promise<string[]> {
  const result = await db.raw<{ rows: Array<{ scope: string }> }>('select scope from role_scopes union select unnest(scopes) from clients order by 1');
  return result.rows.map((row) => row.scope);
}

/**
 * `scopes_supported` for the discovery document, read at most once per `ttlMs` (one read at a
 * time), and the last list while the database is down. The document is public and unauthenticated:
 * read per request, anyone could turn it into a database query each (outside round), and an
 * outage made a static document a 503.
 */
export class ScopesSupported {
  private last: { readonly scopes: readonly string[]; readonly at: number } | undefined;
  private running: Promise<readonly string[]> | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(): Promise<readonly string[]> {
    const last = this.last;
    if (last !== undefined && this.now() - last.at < this.ttlMs) return last.scopes;
    this.running ??= readScopes(this.db)
      .then((scopes) => {
        this.last = { scopes, at: this.now() };
        return scopes;
      })
      .finally(() => {
        this.running = undefined;
      });
    try {
      return await this.running;
    } catch (error) {
      if (last !== undefined && isDatabaseOutage(error)) return last.scopes;
      throw error;
    }
  }
}
