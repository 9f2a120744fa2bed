import { identity } from '../../migrations/0001-identity';
import { browserSignIn } from '../../migrations/0002-browser-sign-in';
import { clientSecrets } from '../../migrations/0003-client-secrets';
import type { Database } from '../../src/db/database';
import { rotateClientSecret } from '../../src/identity/client-secret-store';
import { hashClientSecret, verifyClientSecret } from '../../src/identity/client-secrets';
import { findClient } from '../../src/identity/clients';
import { createTestDatabase, databaseKinds } from '../support/env';

const OLD_SECRET = 'secret-of-a-client-from-before-0003-0123456789';

describe.each(databaseKinds())('migration 0003-client-secrets (%s)', (kind) => {
  let db: Database;
  let drop: () => Promise<void>;
  const rotatedAt = new Date('2025-06-01T12:00:00Z');

  beforeAll(async () => {
    ({ db, drop } = await createTestDatabase(kind, { migrate: false }));
    await identity.up(db);
    await browserSignIn.up(db);
    // Clients written before the migration, in the old shape.
    await db('clients').insert([
      { id: 'old-svc', name: 'Old service', type: 'confidential', secret_hash: hashClientSecret(OLD_SECRET), grant_types: ['client_credentials'], secret_rotated_at: rotatedAt },
      { id: 'old-spa', name: 'Old SPA', type: 'public', grant_types: ['password'] },
    ]);
    await clientSecrets.up(db);
  });
  afterAll(async () => drop());

  it('carries an existing client\'s secret over: the client authenticates with it as before', async () => {
    const rows = await db('client_secrets').select('*');
    expect(rows).toEqual([{ id: expect.stringMatching(/^cs_[A-Za-z0-9_-]{12}$/), client_id: 'old-svc', secret_hash: expect.any(String), created_at: rotatedAt, not_after: null, last_used_at: null }]);
    const client = (await findClient(db, 'old-svc'))!;
    expect(client.secrets).toEqual([{ id: rows[0].id, hash: rows[0].secret_hash, notAfter: null }]);
    expect(verifyClientSecret(OLD_SECRET, client.secrets[0]!.hash)).toBe(true);
    expect((await findClient(db, 'old-spa'))!.secrets).toEqual([]);
  });

  it('keeps clients.secret_hash, written with the newest secret, for instances of the previous release', async () => {
    const rotated = await rotateClientSecret(db, 'old-svc', { keepOldForSec: 3600 }, new Date());
    const { secret_hash: legacy } = await db('clients').where({ id: 'old-svc' }).first<{ secret_hash: string }>('secret_hash');
    expect(verifyClientSecret(rotated.secret, legacy)).toBe(true);
    expect(await db('client_secrets').where({ client_id: 'old-svc' }).pluck('id')).toHaveLength(2);
  });

  it('follows its client: deleting the client deletes its secrets', async () => {
    await db('clients').insert({ id: 'doomed', name: 'doomed', type: 'confidential', secret_hash: hashClientSecret(OLD_SECRET) });
    await db('client_secrets').insert({ id: 'cs_doomed000000', client_id: 'doomed', secret_hash: hashClientSecret(OLD_SECRET), created_at: new Date() });
    await expect(db('client_secrets').insert({ id: 'cs_orphan000000', client_id: 'missing', secret_hash: 'x', created_at: new Date() })).rejects.toThrow(/foreign key/);
    await db('clients').where({ id: 'doomed' }).delete();
    expect(await db('client_secrets').where({ client_id: 'doomed' }).pluck('id')).toEqual([]);
  });

  it('goes down to the old shape with the newest working secret in clients.secret_hash, and up again', async () => {
    const newest = (await db('client_secrets').where({ client_id: 'old-svc' }).whereNull('not_after').first<{ secret_hash: string }>('secret_hash'))!.secret_hash;
    // Something wrote only the table: down still leaves the previous release the newest secret.
    await db('clients').where({ id: 'old-svc' }).update({ secret_hash: hashClientSecret('stale-0123456789-0123456789-0123456789') });
    await clientSecrets.down(db);
    expect(await db.schema.hasTable('client_secrets')).toBe(false);
    expect((await db('clients').where({ id: 'old-svc' }).first<{ secret_hash: string }>('secret_hash')).secret_hash).toBe(newest);
    expect((await db('clients').where({ id: 'old-spa' }).first<{ secret_hash: string | null }>('secret_hash')).secret_hash).toBeNull();
    await clientSecrets.up(db);
    expect(await db('client_secrets').where({ client_id: 'old-svc' }).pluck('secret_hash')).toEqual([newest]);
  });
});
