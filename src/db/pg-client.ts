import type { Client, Knex } from 'knex';

// knex's PostgreSQL dialect, typed as knex's base Client (knex ships no types for its dialects;
// knex-pglite types its subclass the same way).
const PgDialect = require('knex/lib/dialects/postgres') as typeof Client;

/** A pg connection as this file uses it: its socket, and knex's "do not reuse" mark. */
interface PgConnection {
  __knex__disposed?: unknown;
  readonly connection?: { readonly stream?: { destroy(): void } };
}

type QueryMethod = (this: unknown, connection: PgConnection, query: unknown) => Promise<unknown>;
type AcquireMethod = (this: unknown) => Promise<unknown>;

/** A query PostgreSQL did not answer in time: an outage (db/outage.ts reads the code), not a bug. */
export class QueryTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

// Clients running unbounded work, and how many such works are running. Not an
// AsyncLocalStorage: on Node 20 a single run() turns on promise hooks for the whole process,
// which every request's promises then pay for. Migrations run before the service listens (or
// in the CLI), so "every query of this database while a migration runs" is the same set.
const unbounded = new WeakMap<object, number>();

/** Runs `work` with no query timeout on `db`: migrations may rewrite large tables for longer
 *  than a request should ever wait. */
export async function withoutQueryTimeout<T>(db: Knex, work: () => PromiseLike<T>): Promise<T> {
  const client = db.client as object;
  unbounded.set(client, (unbounded.get(client) ?? 0) + 1);
  try {
    return await work();
  } finally {
    unbounded.set(client, (unbounded.get(client) ?? 1) - 1);
  }
}

/** Who hears that a query could not get a connection (the metrics count it). */
export type AcquireFailureListener = (error: unknown) => void;
const acquireListeners = new WeakMap<object, Set<AcquireFailureListener>>();

/** Listens for connections the pool could not get (knex emits no query event for those). */
export function onAcquireFailure(client: object, listener: AcquireFailureListener): () => void {
  const listeners = acquireListeners.get(client) ?? new Set<AcquireFailureListener>();
  acquireListeners.set(client, listeners);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * knex's pg client with a bound on every query. A PostgreSQL that hangs (a frozen server, a
 * network that drops packets) does not close its sockets: without a bound, a request on a
 * pooled connection waited for the operating system's TCP timeout, and the error handler never
 * saw an outage. Past `timeoutMs` the query fails as an outage and its connection is destroyed,
 * so the pool opens a new one instead of queueing behind the lost query. pg's own query_timeout
 * is not used: it leaves the connection busy with the lost query.
 */
export function boundedPgClient(timeoutMs: number): typeof Client {
  const inheritedQuery = (PgDialect.prototype as unknown as { _query: QueryMethod })._query;
  const inheritedAcquire = (PgDialect.prototype as unknown as { acquireConnection: AcquireMethod }).acquireConnection;
  const seconds = timeoutMs / 1000;
  return class BoundedPgClient extends PgDialect {
    _query(connection: PgConnection, query: unknown): Promise<unknown> {
      const running = inheritedQuery.call(this, connection, query);
      if ((unbounded.get(this) ?? 0) > 0) return running;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new QueryTimeoutError(`PostgreSQL did not answer within ${seconds} s (DATABASE_QUERY_TIMEOUT)`);
          connection.__knex__disposed = error;
          connection.connection?.stream?.destroy();
          reject(error);
        }, timeoutMs);
      });
      return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
    }

    override async acquireConnection(): Promise<unknown> {
      try {
        return await inheritedAcquire.call(this);
      } catch (error) {
        for (const listener of acquireListeners.get(this) ?? []) listener(error);
        throw error;
      }
    }
  };
}
