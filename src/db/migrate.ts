import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations';
import type { Database } from './database';

const source: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

const options: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(options)) as [number, string[]];
  return applied;
}

/** Reverts every applied migration (tests and `portcullis migrate --down-all`). */
export async function migrateRollbackAll(db: Database): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(options, true)) as [number, string[]];
  return reverted;
}

export async function migrationStatus(db: Database): Promise<{ applied: string[]; pending: string[] }> {
  const [applied, pending] = (await db.migrate.list(options)) as [Array<{ name: string }>, Migration[]];
  return { applied: applied.map((row) => row.name), pending: pending.map((migration) => migration.name) };
}
