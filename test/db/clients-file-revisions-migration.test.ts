import { clientsFileRevisions } from '../../migrations/0005-clients-file-revisions';
import type { Database } from '../../src/db/database';
import { createTestDatabase, databaseKinds } from '../support/env';

describe.each(databaseKinds())('migration 0005-clients-file-revisions (%s)', (kind) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await createTestDatabase(kind));
  });
  afterAll(async () => drop());

  it('keeps one revision per mark, large enough for a date and time, and goes down and up again', async () => {
    await db('clients_file_revisions').insert({ mark: 'prod-clients', revision: 202607011230, digest: 'd', applied_at: new Date() });
    await expect(db('clients_file_revisions').insert({ mark: 'prod-clients', revision: 1, digest: 'e', applied_at: new Date() })).rejects.toThrow(/duplicate key/);
    expect(Number((await db('clients_file_revisions').first<{ revision: string | number }>('revision')).revision)).toBe(202607011230);
    await clientsFileRevisions.down(db);
    expect(await db.schema.hasTable('clients_file_revisions')).toBe(false);
    await clientsFileRevisions.up(db);
    expect(await db('clients_file_revisions').pluck('mark')).toEqual([]);
  });
});
