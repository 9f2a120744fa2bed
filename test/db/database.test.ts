import { createDatabase, pingDatabase } from '../../src/db/database';
import { migrateLatest, migrationStatus } from '../../src/db/migrate';
import { migrations } from '../../migrations';
import { createTestDatabase, databaseKinds, tempDir } from '../support/env';

describe.each(databaseKinds())('database (%s)', (kind) => {
  it('answers ping and applies every migration once', async () => {
    const { db, drop } = await createTestDatabase(kind, { migrate: false });
    try {
      await pingDatabase(db);
      expect(await migrateLatest(db)).toEqual(migrations.map((migration) => migration.name));
      expect(await migrateLatest(db)).toEqual([]);
      expect(await migrationStatus(db)).toEqual({ applied: migrations.map((migration) => migration.name), pending: [], unknown: [] });
    } finally {
      await drop();
    }
  });
});

describe.each(databaseKinds())('database (%s) answers', (kind) => {
  it('the number of rows an update or a delete touched', async () => {
    const { db, drop } = await createTestDatabase(kind);
    try {
      await db('roles').insert([{ name: 'probe-a' }, { name: 'probe-b' }]);
      expect(await db('roles').whereIn('name', ['probe-a', 'probe-b']).update({ description: 'x' })).toBe(2);
      expect(await db('roles').where({ name: 'probe-a' }).delete()).toBe(1);
      expect(await db('roles').where({ name: 'probe-a' }).del()).toBe(0);
    } finally {
      await drop();
    }
  });
});

describe('embedded PGlite', () => {
  it('persists under DATA_DIR across restarts', async () => {
    const dir = `${tempDir()}/pgdata`;
    const first = createDatabase({ kind: 'pglite', dir });
    await first.schema.createTable('probe', (table) => table.text('value'));
    await first('probe').insert({ value: 'kept' });
    await first.destroy();

    const second = createDatabase({ kind: 'pglite', dir });
    try {
      expect(await second('probe').pluck('value')).toEqual(['kept']);
    } finally {
      await second.destroy();
    }
  });
});
