import { types } from 'node:util';

// Failures that mean "the database cannot answer now" rather than a bug: the error handler logs
// them once per outage (OutageLog) instead of a stack per request.

// Socket-level failures on the way to PostgreSQL (Node's errno codes).
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
// cannot connect now: a server starting or stopping), 57014 (statement_timeout: the server gave
// up on a statement, DATABASE_QUERY_TIMEOUT) and 25006 (a read-only transaction: a standby,
// as after a failover, or default_transaction_read_only).
const SQLSTATE = /^(08...|57P0[1-3]|57014|25006)$/;

// The driver and the pool, in their own words: a connection that went away under a query, a
// server that did not finish the connection handshake in time (pg's connectionTimeoutMillis:
// "timeout expired"), and a pool that could not get one in time (knex's acquireConnectionTimeout).
// A query that gets no answer (db/pg-client.ts) carries ETIMEDOUT.
// knex puts the statement in front of a query's error ("select ... - Connection terminated").
const MESSAGES = /(^|\s-\s)(Connection terminated|Knex: Timeout acquiring a connection|Client has encountered a connection error|timeout exceeded when trying to connect|timeout expired$)/;

/** Seconds a client should wait while the database cannot answer (Retry-After): the pool opens
 *  a new connection on the next query, so a restarted server is seen at once. */
export const DATABASE_RETRY_AFTER_SEC = 5;

export function isDatabaseOutage(error: unknown): error is Error {
  // isNativeError, not instanceof: the driver's socket errors may come from another realm (a vm
  // context, as under Jest), where Error is another constructor.
  if (!(error instanceof Error) && !types.isNativeError(error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (TRANSPORT_CODES.has(code) || SQLSTATE.test(code))) return true;
  if (MESSAGES.test(error.message)) return true;
  // A pool error wraps the connect failure (AggregateError of every address tried).
  const inner: unknown = (error as Partial<AggregateError>).errors;
  return Array.isArray(inner) && inner.some((each) => isDatabaseOutage(each));
}
