import { identity } from '../../migrations/0001-identity';
import { browserSignIn } from '../../migrations/0002-browser-sign-in';
import type { Database } from '../../src/db/database';
import { createTestDatabase, databaseKinds } from '../support/env';

const columns = async (db: Database, table: string): Promise<string[]> =>
  (await db('information_schema.columns').where({ table_name: table, table_schema: db.raw('current_schema()') }).orderBy('column_name').pluck<string[]>('column_name'));

describe.each(databaseKinds())('migration 0002-browser-sign-in (%s)', (kind) => {
  let db: Database;
  let drop: () => Promise<void>;
  let userId: string;

  beforeAll(async () => {
    ({ db, drop } = await createTestDatabase(kind, { migrate: false }));
    await identity.up(db);
    const [user] = await db('users').insert({ username: 'uma', username_key: 'uma', password_hash: 'x' }).returning<Array<{ id: string }>>('id');
    userId = user!.id;
    // A client written before the migration, in the old shape.
    await db('clients').insert({ id: 'old-spa', name: 'Old SPA', type: 'public', grant_types: ['password', 'refresh_token'], scopes: ['items:read'] });
    await browserSignIn.up(db);
  });
  afterAll(async () => drop());

  it('gives existing clients the defaults: no redirect URIs, no consent page, service-wide lifetimes', async () => {
    expect(await db('clients').where({ id: 'old-spa' }).first()).toMatchObject({
      redirect_uris: [],
      post_logout_redirect_uris: [],
      require_consent: false,
      refresh_token_ttl_sec: null,
      refresh_idle_ttl_sec: null,
      refresh_token_in_cookie: false,
      grant_types: ['password', 'refresh_token'],
    });
  });

  it('stores text arrays as given', async () => {
    const uris = ['https://app.example.com/cb?x=1&y=%20', 'com.example.app:/cb'];
    await db('clients').where({ id: 'old-spa' }).update({ redirect_uris: uris, refresh_token_ttl_sec: 3600 });
    expect(await db('clients').where({ id: 'old-spa' }).first()).toMatchObject({ redirect_uris: uris, refresh_token_ttl_sec: 3600 });
  });

  it('keeps one consent per user and client, gone with the user or the client', async () => {
    await db('clients').insert({ id: 'other', name: 'Other', type: 'public' });
    await db('consents').insert([
      { user_id: userId, client_id: 'old-spa', scopes: ['items:read'] },
      { user_id: userId, client_id: 'other', scopes: [] },
    ]);
    await expect(db('consents').insert({ user_id: userId, client_id: 'old-spa', scopes: [] })).rejects.toThrow(/duplicate key|consents_pkey/);
    await expect(db('consents').insert({ user_id: userId, client_id: 'missing', scopes: [] })).rejects.toThrow(/foreign key/);
    const row = await db('consents').where({ client_id: 'old-spa' }).first<{ granted_at: Date }>();
    expect(row.granted_at).toBeInstanceOf(Date);

    await db('clients').where({ id: 'other' }).delete();
    expect(await db('consents').pluck('client_id')).toEqual(['old-spa']);
    await db('users').where({ id: userId }).delete();
    expect(await db('consents').pluck('client_id')).toEqual([]);
  });

  it('goes down to the old shape, keeping the clients, and up again', async () => {
    await browserSignIn.down(db);
    expect(await db.schema.hasTable('consents')).toBe(false);
    expect(await columns(db, 'clients')).toEqual(['audiences', 'can_introspect', 'cors_origins', 'created_at', 'default_scopes', 'grant_types', 'id', 'name', 'scopes', 'secret_hash', 'secret_rotated_at', 'type', 'updated_at']);
    expect(await db('clients').pluck('id')).toEqual(['old-spa']);
    await browserSignIn.up(db);
    expect(await db.schema.hasTable('consents')).toBe(true);
    expect(await db('clients').where({ id: 'old-spa' }).first()).toMatchObject({ redirect_uris: [] });
  });
});
