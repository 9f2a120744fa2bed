import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Logger } from '../logging/logger';
import { lockDataDir } from './data-dir-lock';
import { boundedPgClient } from './pg-client';

export type Database = Knex;

export type DatabaseTarget =
  /** `connectTimeoutMs`: how long a new connection may take (DATABASE_CONNECT_TIMEOUT);
   *  `queryTimeoutMs`: how long a query may wait for its answer (DATABASE_QUERY_TIMEOUT). */
  | { readonly kind: 'postgres'; readonly url: string; readonly connectTimeoutMs?: number; readonly queryTimeoutMs?: number }
  /** PGlite: real Postgres compiled to WASM; `dir` persists it, 'memory' keeps it in RAM. */
  | { readonly kind: 'pglite'; readonly dir: string | 'memory' };

export function databaseTarget(config: { databaseUrl: string | undefined; dataDir: string; databaseConnectTimeoutSec?: number; databaseQueryTimeoutSec?: number }): DatabaseTarget {
  return config.databaseUrl
    ? {
        kind: 'postgres',
        url: config.databaseUrl,
        ...(config.databaseConnectTimeoutSec === undefined ? {} : { connectTimeoutMs: config.databaseConnectTimeoutSec * 1000 }),
        ...(config.databaseQueryTimeoutSec === undefined ? {} : { queryTimeoutMs: config.databaseQueryTimeoutSec * 1000 }),
      }
    : { kind: 'pglite', dir: path.join(config.dataDir, 'pgdata') };
}

type ProcessResponse = (this: unknown, query: { readonly method?: string }, runner: unknown) => unknown;

/**
 * knex-pglite 0.14 names a delete's result after knex's method, 'del' → 'DEL', where knex's pg
 * dialect returns the row count only for 'DELETE': on PGlite `.delete()` answered an object, and
 * every "was anything deleted?" (`> 0`) said no. Give the method the name pg reports.
 */
class PgLiteClient extends ClientPgLite {
  processResponse(query: { readonly method?: string }, runner: unknown): unknown {
    const inherited = (ClientPgLite.prototype as unknown as { processResponse: ProcessResponse }).processResponse;
    return inherited.call(this, query.method === 'del' ? { ...query, method: 'delete' } : query, runner);
  }
}

/** knex's pool warnings about connections (knex/lib/client.js): one per request in an outage. */
const POOL_CHATTER = /^(Connection Error|Acquire connection error):/;

/** The only place that knows which Postgres is behind knex; the rest of the code sees knex. */
export function createDatabase(target: DatabaseTarget, log?: Logger): Database {
  // knex prints to the console by default; send what it says to the structured log instead.
  const knexLog = {
    // The pool failing to open a connection or dropping one that broke: during an outage that
    // is every request (with a stack and the server's address), and the outage is already
    // logged once by the error handler (store/outage-log.ts).
    warn: (message: unknown) => {
      const detail = String(message);
      if (POOL_CHATTER.test(detail)) log?.debug({ event: 'database.connection_failed', detail: detail.split('\n', 1)[0] }, 'a database connection failed or was dropped from the pool');
      else log?.warn({ event: 'database.warning', detail }, 'database warning');
    },
    error: (message: unknown) => log?.error({ event: 'database.error', detail: String(message) }, 'database error'),
    deprecate: (method: string, alternative: string) => log?.warn({ event: 'database.deprecated', method, alternative }, 'knex deprecation'),
    debug: () => undefined,
  };
  if (target.kind === 'postgres') {
    const connectTimeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const queryTimeoutMs = target.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    return knex({
      log: knexLog,
      client: boundedPgClient(queryTimeoutMs + CLIENT_BOUND_MARGIN_MS),
      // pg's own timeout ends a connection attempt to a host that never answers (without it,
      // the operating system's TCP timeout: minutes); the pool's is a little longer, so the
      // error says what happened rather than "the pool is probably full".
      // statement_timeout: the server cancels a statement the client stops waiting for (a lock
      // wait, a slow plan), instead of running it on for nobody while the pool opens another
      // connection; migrations lift it (db/migrate.ts). The client's own bound (pg-client.ts)
      // is a little longer, for a server that does not answer at all.
      connection: { connectionString: target.url, connectionTimeoutMillis: connectTimeoutMs, statement_timeout: queryTimeoutMs },
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: Math.max(5000, connectTimeoutMs + 1000),
    });
  }
  if (target.dir === 'memory') return knex({ log: knexLog, client: PgLiteClient, dialect: 'postgres', connection: {} });
  mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  // One process at a time (db/data-dir-lock.ts); released when the database is closed.
  const release = lockDataDir(`${target.dir}.lock`, path.dirname(target.dir));
  const db = knex({ log: knexLog, client: PgLiteClient, dialect: 'postgres', connection: { filename: target.dir } });
  const destroy = db.destroy.bind(db);
  // knex defines destroy as a read-only (but configurable) property.
  Object.defineProperty(db, 'destroy', {
    configurable: true,
    value: async () => {
      try {
        await destroy();
      } finally {
        release();
      }
    },
  });
  return db;
}

/** DATABASE_CONNECT_TIMEOUT's default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** DATABASE_QUERY_TIMEOUT's default. */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** How much longer the client waits than the server's statement_timeout: a live server's own
 *  cancellation (57014) arrives first and keeps the connection. */
const CLIENT_BOUND_MARGIN_MS = 500;

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}
