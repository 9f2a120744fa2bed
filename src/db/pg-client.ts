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

/** Per database (one client class each): how many unbounded works are running now. */
interface Bound {
  unbounded: number;
}

/**
 * Runs `work` with no query timeout on `db`: migrations may rewrite large tables for longer
 * than a request should ever wait. The mark is on the client's class, which every copy of the
 * client shares: a transaction's client (knex's makeTxClient) and the migrator's clone
 * (withUserParams) are new objects with new configs, and knex runs each migration in a
 * transaction. Not an AsyncLocalStorage: on Node 20 one run() turns on promise hooks for the
 * whole process, which every request then pays for. Migrations run before the service listens
 * (or in the CLI), so "every query of this database while a migration runs" is the same set.
 */
export async function withoutQueryTimeout<T>(db: Knex, work: () => PromiseLike<T>): Promise<T> {
  const bound = ((db.client as object).constructor as { readonly bound?: Bound }).bound;
  if (bound === undefined) return work(); // PGlite: nothing is bounded
  bound.unbounded += 1;
  try {
    return await work();
  } finally {
    bound.unbounded -= 1;
  }
}

/** The event the client emits when a query could not get a connection (knex emits no query
 *  event for those; the metrics count them). */
export const ACQUIRE_FAILED = 'portcullis:acquire-failed';

/**
 * knex's pg client with a bound on every query. A PostgreSQL that hangs (a frozen server, a
 * network that drops packets) does not close its sockets: without a bound, a request on a
 * pooled connection waited for the operating system's TCP timeout, and the error handler never
 * saw an outage. Past `timeoutMs` the query fails as an outage and its connection is destroyed,
 * so the pool opens a new one instead of queueing behind the lost query. pg's own query_timeout
 * is not used: it leaves the connection busy with the lost query. A live server ends the
 * statement itself first (database.ts sets statement_timeout a little below this bound).
 */
export function boundedPgClient(timeoutMs: number): typeof Client {
  const inheritedQuery = (PgDialect.prototype as unknown as { _query: QueryMethod })._query;
  const inheritedAcquire = (PgDialect.prototype as unknown as { acquireConnection: AcquireMethod }).acquireConnection;
  const seconds = timeoutMs / 1000;
  const timedOut = (): QueryTimeoutError => new QueryTimeoutError(`PostgreSQL did not answer within ${seconds} s (DATABASE_QUERY_TIMEOUT)`);
  const state: Bound = { unbounded: 0 };
  return class BoundedPgClient extends PgDialect {
    static readonly bound: Bound = state;

    _query(connection: PgConnection, query: unknown): Promise<unknown> {
      // The connection a query timed out on: a transaction's ROLLBACK after it fails as the
      // timeout did (sent on the dropped socket it would be a "Connection terminated" that hid it).
      if (connection.__knex__disposed instanceof QueryTimeoutError) return Promise.reject(timedOut());
      const running = inheritedQuery.call(this, connection, query);
      if (state.unbounded > 0) return running;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = timedOut();
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
        this.emit(ACQUIRE_FAILED, error);
        throw error;
      }
    }
  };
}
