import { LRUCache } from 'lru-cache';
import type { Database } from '../db/database';
import { findClient, type ClientWithSecret } from '../identity/clients';
import type { ClientSource } from './client-auth';

/** Unknown ids are remembered for a shorter time, so a new client is usable soon. */
const NEGATIVE_TTL_MS = 2000;
/** A client is read again for a secret that matched nothing at most this often. */
export const RELOAD_INTERVAL_MS = 1000;
/**
 * How long past CLIENT_CACHE_TTL a client's record keeps serving while the database cannot be
 * read (stale-if-error): the hot paths keep working for clients seen before an outage, and a
 * client deleted or changed elsewhere during one is seen at most this much later.
 */
export const STALE_IF_ERROR_MS = 10 * 60_000;

interface Entry {
  readonly client: ClientWithSecret | undefined;
  /** When the read that found it started (performance.now()). */
  readonly readAt: number;
}

/** A read of one client from the database: when it starts (performance.now()) and what it found. */
interface Reload {
  readonly at: number;
  readonly result: Promise<ClientWithSecret | undefined>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Clients for the token, introspection and revocation endpoints: the database is asked at most
 * once per client id per `ttlMs`, and concurrent misses share one query (lru-cache's fetch).
 * A client deleted, changed or with a secret removed elsewhere (another instance, the CLI) is
 * therefore seen within `ttlMs` (CLIENT_CACHE_TTL); changes through this instance's admin API
 * clear it at once.
 *
 * A secret added elsewhere works at once: a presented secret that matches none of a cached
 * client's makes authentication `reload` the client (client-auth.ts). Reloads of one client
 * start at most once per RELOAD_INTERVAL_MS, and every caller waiting for one shares it, so a
 * wrong secret costs at most one query per second per client however often it is tried; a
 * caller waits (at most that second) for a read that starts after it asked, never settling for
 * one that began before the secret could have existed.
 *
 * When the database cannot answer, a record found earlier keeps serving for up to
 * `staleIfErrorMs` (STALE_IF_ERROR_MS) past its TTL, and the database is asked again at most once
 * per RELOAD_INTERVAL_MS meanwhile; an id not known before the outage (or only as unknown) fails
 * with the database's error. A presented secret that matches none still needs the database.
 */
export class ClientCache implements ClientSource {
  private readonly cache: LRUCache<string, Entry>;
  private readonly reloads: LRUCache<string, Reload>;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    max = 1000,
    staleIfErrorMs = STALE_IF_ERROR_MS,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max,
      ttl: Math.max(ttlMs, 1),
      // An expired record stays until replaced, for stale-if-error (reload's get would drop it).
      noDeleteOnStaleGet: true,
      fetchMethod: async (id, stale, { options }) => {
        const readAt = performance.now();
        let client: ClientWithSecret | undefined;
        try {
          client = await findClient(db, id);
        } catch (error) {
          if (!stale?.client || performance.now() - stale.readAt > ttlMs + staleIfErrorMs) throw error;
          // Kept as read (readAt too, which bounds it); the database is tried again soon.
          options.ttl = Math.min(RELOAD_INTERVAL_MS, Math.max(ttlMs, 1));
          return stale;
        }
        if (!client) options.ttl = this.negativeTtl();
        return { client, readAt };
      },
    });
    this.reloads = new LRUCache<string, Reload>({ max });
  }

  private negativeTtl(): number {
    return Math.min(NEGATIVE_TTL_MS, Math.max(this.ttlMs, 1));
  }

  readonly find = async (id: string): Promise<ClientWithSecret | undefined> => {
    if (this.ttlMs <= 0) return findClient(this.db, id);
    return (await this.cache.fetch(id))?.client;
  };

  /**
   * The client as the database has it, read at or after `since`; undefined without a cache
   * (find just read it). The cached record serves when its read began after `since` (a miss
   * that `find` just filled): one query per unknown id, as for a known one.
   */
  readonly reload = (id: string, since: number): Promise<ClientWithSecret | undefined> => {
    if (this.ttlMs <= 0) return Promise.resolve(undefined);
    const cached = this.cache.get(id, { allowStale: false });
    if (cached && cached.readAt >= since) return Promise.resolve(cached.client);
    const now = performance.now();
    const latest = this.reloads.get(id);
    if (latest && latest.at >= since) return latest.result;
    const at = latest ? Math.max(now, latest.at + RELOAD_INTERVAL_MS) : now;
    const result = (at > now ? sleep(at - now) : Promise.resolve()).then(async () => {
      const readAt = performance.now();
      const client = await findClient(this.db, id);
      this.cache.set(id, { client, readAt }, client ? {} : { ttl: this.negativeTtl() });
      return client;
    });
    this.reloads.set(id, { at, result });
    return result;
  };

  clear(): void {
    this.cache.clear();
  }
}
