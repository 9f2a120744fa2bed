import { migrations } from '../../migrations';
import { migrationStatus } from '../../src/db/migrate';
import { openDatabase, requireMigrated } from '../../src/db/startup';
import { createTestDatabase, databaseKinds } from '../support/env';

/** A logger that keeps what it was told to warn. */
function warnings(): { warn(fields: object, message: string): void; lines: Array<{ fields: object; message: string }> } {
  const lines: Array<{ fields: object; message: string }> = [];
  return { lines, warn: (fields, message) => lines.push({ fields, message }) };
}

const NEWER = '9999-from-a-newer-release';

describe.each(databaseKinds())('a database ahead of this release (%s): rollouts and rollbacks', (kind) => {
  it('starts, with one database.ahead_of_release warning naming the migrations it does not know', async () => {
    const { db, drop } = await createTestDatabase(kind);
    try {
      // What the next release's migration Job leaves behind.
      await db('knex_migrations').insert({ name: NEWER, batch: 99, migration_time: new Date() });
      expect(await migrationStatus(db)).toEqual({ applied: [...migrations.map((migration) => migration.name), NEWER], pending: [], unknown: [NEWER] });
      for (const migrate of [false, true]) {
        const log = warnings();
        expect(await openDatabase(db, { kind: 'pglite', dir: '' }, { migrate, log })).toEqual([]);
        expect(log.lines).toEqual([{ fields: { event: 'database.ahead_of_release', unknown: [NEWER] }, message: expect.stringContaining(NEWER) }]);
      }
    } finally {
      await drop();
    }
  });

  it("still refuses when this release's own migrations are pending", async () => {
    const { db, drop } = await createTestDatabase(kind);
    try {
      const last = migrations[migrations.length - 1]!.name;
      await db('knex_migrations').where({ name: last }).delete();
      await db('knex_migrations').insert({ name: NEWER, batch: 99, migration_time: new Date() });
      const log = warnings();
      await expect(requireMigrated(db, { migrate: false, log })).rejects.toMatchObject({ event: 'database.migrations_pending', details: { pending: [last] } });
      expect(log.lines).toHaveLength(1);
    } finally {
      await drop();
    }
  });
});
