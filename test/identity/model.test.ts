import { migrations } from '../../migrations';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../../src/db/migrate';
import { authenticate } from '../../src/identity/authenticate';
import { verifyClientSecret } from '../../src/identity/client-secrets';
import { rotateClientSecret } from '../../src/identity/client-secret-store';
import { createClient, findClient, listClients } from '../../src/identity/clients';
import { IdentityError } from '../../src/identity/errors';
import { Passwords } from '../../src/identity/passwords';
import { listRoles } from '../../src/identity/roles';
import { registerUser, setUserDisabled, setUserPassword, type LifecycleDeps } from '../../src/identity/user-lifecycle';
import { findTokenSubject } from '../../src/identity/token-subject';
import { effectiveScopes, findUserByUsername, listUsers } from '../../src/identity/users';
import { nowSeconds } from '../../src/clock';
import { FakeClock } from '../support/clock';
import type { RevocationStore } from '../../src/store/revocations';
import { createTestDatabase, createTestStores, databaseKinds, storeKinds, testConfig } from '../support/env';

const SETTINGS = { memoryKib: 8192, timeCost: 1, parallelism: 1, maxConcurrent: 2, maxQueue: 100 };

async function expectIdentityError(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(IdentityError);
  await expect(promise).rejects.toMatchObject({ code });
}

describe.each(databaseKinds())('identity model on %s', (dbKind) => {
  let deps: LifecycleDeps & { revocations: RevocationStore; drop(): Promise<void>; clock: FakeClock };

  beforeAll(async () => {
    const { db, drop } = await createTestDatabase(dbKind);
    const stores = await createTestStores(storeKinds().includes('redis') ? 'redis' : 'memory');
    deps = {
      db,
      families: stores.families,
      revocations: stores.revocations,
      browserSessions: stores.browserSessions,
      passwords: new Passwords(SETTINGS),
      clock: new FakeClock(),
      config: { accessTokenTtlSec: 900, passwordMinLength: 8, refresh: testConfig().refresh },
      drop: async () => {
        await stores.storage.close();
        await drop();
      },
    };
  });
  afterAll(async () => deps.drop());

  describe('migrations', () => {
    it('go down completely and up again', async () => {
      const { db } = deps;
      expect((await migrationStatus(db)).pending).toEqual([]);
      const names = migrations.map((migration) => migration.name);
      expect(await migrateRollbackAll(db)).toEqual([...names].reverse());
      expect(await db.schema.hasTable('users')).toBe(false);
      expect(await db.schema.hasTable('clients')).toBe(false);
      expect(await db.schema.hasTable('consents')).toBe(false);
      expect(await migrateLatest(db)).toEqual(names);
      expect(await db.schema.hasTable('users')).toBe(true);
    });

    it('create the seed role ladder, each role inheriting the one below', async () => {
      const roles = await listRoles(deps.db);
      expect(roles.map((role) => [role.name, role.parent])).toEqual([
        ['admin', 'moderator'],
        ['moderator', 'user'],
        ['superuser', 'admin'],
        ['user', null],
      ]);
      const byName = Object.fromEntries(roles.map((role) => [role.name, role.effectiveScopes]));
      expect(byName.user).toEqual(['items:read', 'users:read:own']);
      expect(byName.moderator).toEqual(expect.arrayContaining([...byName.user!, 'items:write', 'users:read']));
      expect(byName.admin).toEqual(expect.arrayContaining([...byName.moderator!, 'items:delete', 'users:delete']));
      expect(byName.superuser).toEqual(expect.arrayContaining(['*', 'admin', ...byName.admin!]));
    });
  });

  describe('users', () => {
    it('are unique by case-insensitive, NFKC-normalised username', async () => {
      const user = await registerUser(deps, { username: 'Ｆｒａｎｋ', password: 'long-password' }); // full-width letters
      expect(user.username).toBe('Frank');
      await expectIdentityError(registerUser(deps, { username: 'frank', password: 'long-password' }), 'duplicate_username');
      await expectIdentityError(registerUser(deps, { username: 'FRANK', password: 'long-password' }), 'duplicate_username');
      expect((await findUserByUsername(deps.db, 'fRaNk'))?.id).toBe(user.id);
    });

    it('refuse malformed usernames, weak passwords, unknown roles and bad scopes', async () => {
      await expectIdentityError(registerUser(deps, { username: 'has space', password: 'long-password' }), 'invalid_username');
      await expectIdentityError(registerUser(deps, { username: '', password: 'long-password' }), 'invalid_username');
      await expectIdentityError(registerUser(deps, { username: 'grace', password: 'short' }), 'weak_password');
      await expectIdentityError(registerUser(deps, { username: 'grace', password: 'long-password', roles: ['wizard'] }), 'unknown_role');
      await expectIdentityError(registerUser(deps, { username: 'grace', password: 'long-password', scopes: ['bad"scope'] }), 'invalid_scope');
      expect(await findUserByUsername(deps.db, 'grace')).toBeUndefined();
    });

    it('hold the scopes of their roles, inherited ones included, plus direct scopes', async () => {
      const user = await registerUser(deps, { username: 'heidi', password: 'long-password', roles: ['moderator'], scopes: ['reports:read'] });
      expect(await effectiveScopes(deps.db, user.id)).toEqual(['items:read', 'items:write', 'reports:read', 'users:read', 'users:read:own', 'users:write:own']);
      const plain = await registerUser(deps, { username: 'ivan', password: 'long-password' });
      expect(await effectiveScopes(deps.db, plain.id)).toEqual([]);
    });

    it('read as a token subject in one query: profile, roles and effective scopes', async () => {
      const user = await registerUser(deps, { username: 'subject-one', password: 'long-password', roles: ['moderator', 'user'], scopes: ['reports:read'] });
      expect(await findTokenSubject(deps.db, user.id)).toEqual({
        id: user.id,
        username: 'subject-one',
        disabled: false,
        passwordChangedAt: user.passwordChangedAt,
        roles: ['moderator', 'user'],
        scopes: await effectiveScopes(deps.db, user.id),
      });
      const plain = await registerUser(deps, { username: 'subject-two', password: 'long-password' });
      expect(await findTokenSubject(deps.db, plain.id)).toMatchObject({ roles: [], scopes: [] });
      expect(await findTokenSubject(deps.db, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
      expect(await findTokenSubject(deps.db, 'not-a-uuid')).toBeUndefined();
    });

    it('list by prefix without treating LIKE wildcards as wildcards', async () => {
      await registerUser(deps, { username: 'list_a', password: 'long-password' });
      await registerUser(deps, { username: 'listxb', password: 'long-password' });
      expect((await listUsers(deps.db, { prefix: 'list_' })).map((user) => user.username)).toEqual(['list_a']);
      expect((await listUsers(deps.db, { prefix: 'LIST' })).map((user) => user.username)).toEqual(['list_a', 'listxb']);
    });
  });

  describe('authentication', () => {
    it('returns the user for the right password and nothing for a wrong one or an unknown user', async () => {
      await registerUser(deps, { username: 'judy', password: 'judys-password' });
      const now = new Date(deps.clock.now());
      expect((await authenticate(deps, 'JUDY', 'judys-password', now))?.username).toBe('judy');
      expect(await authenticate(deps, 'judy', 'wrong-password', now)).toBeUndefined();
      expect(await authenticate(deps, 'nobody-here', 'judys-password', now)).toBeUndefined();
      expect(await authenticate(deps, 'not a username!', 'judys-password', now)).toBeUndefined();
    });

    it('stores a re-hash when the parameters changed, without touching password_changed_at', async () => {
      await registerUser(deps, { username: 'ken', password: 'kens-password' });
      const before = (await findUserByUsername(deps.db, 'ken'))!;
      const stronger = { ...deps, passwords: new Passwords({ ...SETTINGS, timeCost: 2 }) };
      expect(await authenticate(stronger, 'ken', 'kens-password', new Date(deps.clock.now() + 1000))).toBeDefined();
      const after = (await findUserByUsername(deps.db, 'ken'))!;
      expect(after.passwordHash).not.toBe(before.passwordHash);
      expect(after.passwordHash).toContain('t=2');
      expect(after.passwordChangedAt.getTime()).toBe(before.passwordChangedAt.getTime());
    });
  });

  describe('changes that end access at once', () => {
    it('disabling writes the revocation epoch; enabling does not clear the history', async () => {
      const user = await registerUser(deps, { username: 'leo', password: 'leos-password' });
      deps.clock.advanceSeconds(10);
      const disabled = await setUserDisabled(deps, 'leo', true);
      expect(disabled.disabled).toBe(true);
      const now = nowSeconds(deps.clock);
      expect((await deps.revocations.revocationState('any', user.id, now)).userRevokedBefore).toBe(deps.clock.now());
      expect((await findUserByUsername(deps.db, 'leo'))?.disabled).toBe(true);
      expect((await setUserDisabled(deps, 'leo', false)).disabled).toBe(false);
      expect((await deps.revocations.revocationState('any', user.id, now)).userRevokedBefore).toBe(deps.clock.now());
    });

    it('setting a password changes the hash, password_changed_at and the epoch', async () => {
      const user = await registerUser(deps, { username: 'mia', password: 'mias-password' });
      deps.clock.advanceSeconds(30);
      await setUserPassword(deps, 'mia', 'new-mia-password');
      const now = new Date(deps.clock.now());
      expect(await authenticate(deps, 'mia', 'mias-password', now)).toBeUndefined();
      expect(await authenticate(deps, 'mia', 'new-mia-password', now)).toBeDefined();
      expect((await findUserByUsername(deps.db, 'mia'))?.passwordChangedAt.getTime()).toBe(deps.clock.now());
      expect((await deps.revocations.revocationState('any', user.id, nowSeconds(deps.clock))).userRevokedBefore).toBe(deps.clock.now());
      await expectIdentityError(setUserPassword(deps, 'mia', 'short'), 'weak_password');
      await expectIdentityError(setUserPassword(deps, 'nobody', 'long-password'), 'unknown_user');
    });
  });

  describe('clients', () => {
    const now = new Date('2026-01-01T00:00:00Z');

    it('generate a 256-bit secret for a confidential client, store only its hash, and rotate it', async () => {
      const { client, secret } = await createClient(deps.db, { id: 'svc-a', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true }, now);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(client).not.toHaveProperty('secrets');
      const [stored] = (await findClient(deps.db, 'svc-a'))!.secrets;
      expect(stored!.hash).not.toContain(secret);
      expect(verifyClientSecret(secret!, stored!.hash)).toBe(true);
      expect(verifyClientSecret(`${secret}x`, stored!.hash)).toBe(false);

      const rotated = await rotateClientSecret(deps.db, 'svc-a', { keepOldForSec: 0 }, now);
      const after = (await findClient(deps.db, 'svc-a'))!.secrets;
      expect(after.find((each) => each.id === rotated.id)).toMatchObject({ notAfter: null });
      expect(verifyClientSecret(rotated.secret, after.find((each) => each.id === rotated.id)!.hash)).toBe(true);
      // Ended at once, it stays listed (until the next change) but is never tried again.
      expect(after.find((each) => each.id === stored!.id)?.notAfter).toEqual(now);
    });

    it('keep every setting', async () => {
      await createClient(
        deps.db,
        { id: 'spa-b', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:*'], defaultScopes: ['items:read'], audiences: ['https://api.example.com'], corsOrigins: ['https://app.example.com'] },
        now,
      );
      const client = (await findClient(deps.db, 'spa-b'))!;
      expect(client).toMatchObject({
        type: 'public',
        secrets: [],
        grantTypes: ['password', 'refresh_token'],
        scopes: ['items:*'],
        defaultScopes: ['items:read'],
        audiences: ['https://api.example.com'],
        corsOrigins: ['https://app.example.com'],
        canIntrospect: false,
      });
      expect((await listClients(deps.db)).map((c) => c.id)).toEqual(expect.arrayContaining(['spa-b']));
    });

    it.each([
      [{ id: 'bad id', type: 'public', grantTypes: ['password'], scopes: [] }, 'invalid_client'],
      [{ id: 'c1', type: 'public', grantTypes: ['client_credentials'], scopes: [] }, 'invalid_client'],
      [{ id: 'c2', type: 'public', grantTypes: ['implicit'], scopes: [] }, 'invalid_client'],
      [{ id: 'c3', type: 'confidential', grantTypes: [], scopes: [] }, 'invalid_client'],
      [{ id: 'c4', type: 'confidential', secret: 'too-short', grantTypes: ['client_credentials'], scopes: [] }, 'invalid_client'],
      [{ id: 'c5', type: 'public', grantTypes: ['password'], scopes: ['a'], defaultScopes: ['b'] }, 'invalid_scope'],
      [{ id: 'c6', type: 'public', grantTypes: ['password'], scopes: ['a'], corsOrigins: ['https://x.example/path'] }, 'invalid_client'],
      [{ id: 'c7', type: 'sideways', grantTypes: ['password'], scopes: [] }, 'invalid_client'],
    ] as const)('refuse %p', async (input, code) => {
      await expectIdentityError(createClient(deps.db, input as never, now), code);
    });

    it('refuse a duplicate id and a rotation for a public or unknown client', async () => {
      await createClient(deps.db, { id: 'dup', type: 'public', grantTypes: ['password'], scopes: [] }, now);
      await expectIdentityError(createClient(deps.db, { id: 'dup', type: 'public', grantTypes: ['password'], scopes: [] }, now), 'duplicate_client');
      await expectIdentityError(rotateClientSecret(deps.db, 'dup', { keepOldForSec: 0 }, now), 'invalid_client');
      await expectIdentityError(rotateClientSecret(deps.db, 'missing', { keepOldForSec: 0 }, now), 'unknown_client');
    });

    it('cannot store a confidential client without a secret (database constraint)', async () => {
      await expect(deps.db('clients').insert({ id: 'raw', name: 'raw', type: 'confidential', secret_hash: null })).rejects.toThrow(/clients_type_check/);
    });
  });
});
