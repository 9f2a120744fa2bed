import { createClient } from '../../src/identity/clients';
import { IdentityError } from '../../src/identity/errors';
import { findStoredProblems } from '../../src/identity/stored-check';
import { createTestDatabase, databaseKinds } from '../support/env';

// Data written before the scope grammar and the client-id rule: reported, never dropped.
describe.each(databaseKinds())('stored identity data that breaks a current rule, on %s', (dbKind) => {
  it('reports scopes outside the grammar and client ids shaped like user ids, and changes nothing', async () => {
    const { db, drop } = await createTestDatabase(dbKind);
    try {
      const now = new Date();
      const [user] = await db('users').insert({ username: 'legacy', username_key: 'legacy', password_hash: 'x', password_changed_at: now, created_at: now, updated_at: now }).returning<Array<{ id: string }>>('id');
      await db('user_scopes').insert([{ user_id: user!.id, scope: 'admin:*' }, { user_id: user!.id, scope: 'items:read' }]);
      await db('role_scopes').insert({ role: 'user', scope: 'items:x,admin' });
      const uuidId = '6f1c2a9e-0b7d-4c1e-9a55-3d2f1e0c9b8a';
      const row = { type: 'public', grant_types: ['password'], default_scopes: [], audiences: [], cors_origins: [], can_introspect: false, created_at: now, updated_at: now };
      await db('clients').insert({ ...row, id: uuidId, name: 'legacy uuid', scopes: ['items:read'] });
      await db('clients').insert({ ...row, id: 'legacy-client', name: 'legacy', scopes: ['*:*'] });
      const [decoy] = await db('users').insert({ username: uuidId, username_key: uuidId, password_hash: 'x', password_changed_at: now, created_at: now, updated_at: now }).returning<Array<{ id: string }>>('id');

      const problems = await findStoredProblems(db);
      expect(problems.map((p) => [p.where, p.owner, p.value])).toEqual(
        expect.arrayContaining([
          ['user_scopes', user!.id, 'admin:*'],
          ['role_scopes', 'user', 'items:x,admin'],
          ['clients.scopes', 'legacy-client', '*:*'],
          ['clients.id', uuidId, uuidId],
          ['users.username', decoy!.id, uuidId],
        ]),
      );
      expect(problems).toHaveLength(5);
      // Reported, not dropped.
      expect(await db('user_scopes').where({ user_id: user!.id }).pluck('scope')).toEqual(expect.arrayContaining(['admin:*', 'items:read']));
    } finally {
      await drop();
    }
  });

  it('refuses to create a client whose id looks like a user id', async () => {
    const { db, drop } = await createTestDatabase(dbKind);
    try {
      for (const id of ['6f1c2a9e-0b7d-4c1e-9a55-3d2f1e0c9b8a', '6F1C2A9E0B7D4C1E9A553D2F1E0C9B8A']) {
        await expect(createClient(db, { id, type: 'public', grantTypes: ['password'], scopes: [] }, new Date())).rejects.toThrow(IdentityError);
      }
      expect(await findStoredProblems(db)).toEqual([]);
    } finally {
      await drop();
    }
  });
});
