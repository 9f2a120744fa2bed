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
    client: ClientPgLite,
    dialect: 'postgres',
    connection: target.dir === 'memory' ? {} : { filename: target.dir },
  });
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}
