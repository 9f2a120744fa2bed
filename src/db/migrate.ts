import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations';
import type { Database } from './database';
import { withoutQueryTimeout } from './pg-client';

/** Lifts PostgreSQL's statement_timeout (db/database.ts sets it to DATABASE_QUERY_TIMEOUT) for
 *  the migration's own transaction: a schema change may take longer than a request may wait. */
const UNBOUNDED = 'set local statement_timeout = 0';

/** Migrations as knex runs them, each with PostgreSQL's statement_timeout lifted. */
export function migrationSource(list: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...list],
    getMigrationName: (migration) => migration.name,
    // knex runs each migration in a transaction, where SET LOCAL lasts until its end.
    getMigration: async (migration) => ({
      name: migration.name,
      up: async (knex: Knex) => {
        await knex.raw(UNBOUNDED);
        await migration.up(knex);
      },
      down: async (knex: Knex) => {
        await knex.raw(UNBOUNDED);
        await migration.down(knex);
      },
    }),
  };
}

const source = migrationSource(migrations);

const options: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

// During a rollout the migration Job of the next release runs first: an old pod that restarts
// then finds migrations it does not know. knex calls that "corrupt" and throws, which made old
// pods crash-loop and a rollback impossible. Migrations are additive across one release (the
// previous one runs on the new schema), so applying and listing tolerate them; rollback does
// not, as it cannot revert what it does not know.
const tolerant: Knex.MigratorConfig = { ...options, disableMigrationsListValidation: true };

/** Applies every pending migration, with no query timeout (DATABASE_QUERY_TIMEOUT bounds
 *  requests, not schema changes); returns the names applied. */
export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = (await withoutQueryTimeout(db, () => db.migrate.latest(tolerant))) as [number, string[]];
  return applied;
}

/** Reverts every applied migration (tests and `portcullis migrate --down-all`). */
export async function migrateRollbackAll(db: Database): Promise<string[]> {
  const [, reverted] = (await withoutQueryTimeout(db, () => db.migrate.rollback(options, true))) as [number, string[]];
  return reverted;
}

/** Applied and pending migrations of this release, and `unknown`: applied ones this release does
 *  not know (the database is ahead, a newer release migrated it). */
export async function migrationStatus(db: Database): Promise<{ applied: string[]; pending: string[]; unknown: string[] }> {
  const [applied, pending] = (await db.migrate.list(tolerant)) as [Array<{ name: string }>, Migration[]];
  const known = new Set(migrations.map((migration) => migration.name));
  const names = applied.map((row) => row.name);
  return { applied: names, pending: pending.map((migration) => migration.name), unknown: names.filter((name) => !known.has(name)) };
}
