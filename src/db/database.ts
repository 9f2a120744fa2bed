import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Logger } from '../logging/logger';

export type Database = Knex;

export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string }
  /** PGlite: real Postgres compiled to WASM; `dir` persists it, 'memory' keeps it in RAM. */
  | { readonly kind: 'pglite'; readonly dir: string | 'memory' };

export function databaseTarget(config: { databaseUrl: string | undefined; dataDir: string }): DatabaseTarget {
  return config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl }
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

/** The only place that knows which Postgres is behind knex; the rest of the code sees knex. */
export function createDatabase(target: DatabaseTarget, log?: Logger): Database {
  // knex prints to the console by default; send what it says to the structured log instead.
  const knexLog = {
    warn: (message: unknown) => log?.warn({ event: 'database.warning', detail: String(message) }, 'database warning'),
    error: (message: unknown) => log?.error({ event: 'database.error', detail: String(message) }, 'database error'),
    deprecate: (method: string, alternative: string) => log?.warn({ event: 'database.deprecated', method, alternative }, 'knex deprecation'),
    debug: () => undefined,
  };
  if (target.kind === 'postgres') {
    return knex({
      log: knexLog,
      client: 'pg',
      connection: target.url,
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: 5000,
    });
  }
  if (target.dir !== 'memory') mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  return knex({
    log: knexLog,
    client: PgLiteClient,
    dialect: 'postgres',
    connection: target.dir === 'memory' ? {} : { filename: target.dir },
  });
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}
