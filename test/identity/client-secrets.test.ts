import { LEGACY_SECRET_ID, listClientSecrets } from '../../src/identity/client-secret-records';
import { addClientSecret, expireClientSecret, removeClientSecret, rotateClientSecret, setClientSecrets } from '../../src/identity/client-secret-store';
import { SecretUseRecorder } from '../../src/identity/client-secret-uses';
import { hashClientSecret, verifyClientSecret } from '../../src/identity/client-secrets';
import { createClient, findClient } from '../../src/identity/clients';
import { IdentityError, type IdentityErrorCode } from '../../src/identity/errors';
import type { TestDeps } from '../support/deps';
import { createTestDeps } from '../support/deps';
import { databaseKinds } from '../support/env';

const DAY = 86400;
const SECRET = 'first-secret-of-the-service-0123456789';

async function expectIdentityError(promise: Promise<unknown>, code: IdentityErrorCode, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(IdentityError);
  expect((error as IdentityError).code).toBe(code);
  if (message) expect((error as IdentityError).message).toMatch(message);
}

describe.each(databaseKinds())('client secrets with overlap (%s)', (kind) => {
  let deps: TestDeps;
  let counter = 0;
  const at = (offsetSec: number) => new Date(Date.UTC(2026, 0, 1) + offsetSec * 1000);
  /** The hash a release before migration 0003 would read. */
  const legacyHash = async (id: string) => (await deps.db('clients').where({ id }).first<{ secret_hash: string }>('secret_hash')).secret_hash;
  const newClient = async () => {
    const id = `svc${(counter += 1)}`;
    const { secretId } = await createClient(deps.db, { id, type: 'confidential', secret: SECRET, grantTypes: ['client_credentials'], scopes: [] }, at(0));
    return { id, first: secretId! };
  };

  beforeAll(async () => {
    deps = await createTestDeps({ db: kind });
  });
  afterAll(async () => deps.cleanup());

  it('a new confidential client has one secret; a public client none', async () => {
    const { id, first } = await newClient();
    expect(first).toMatch(/^cs_[A-Za-z0-9_-]{12}$/);
    expect(await listClientSecrets(deps.db, id)).toEqual([{ id: first, createdAt: at(0), notAfter: null, lastUsedAt: null }]);
    await createClient(deps.db, { id: 'pub', type: 'public', grantTypes: ['password'], scopes: [] }, at(0));
    expect(await listClientSecrets(deps.db, 'pub')).toEqual([]);
    expect((await findClient(deps.db, 'pub'))?.secrets).toEqual([]);
    await expectIdentityError(rotateClientSecret(deps.db, 'pub', { keepOldForSec: 0 }, at(1)), 'invalid_client');
  });

  it('rotation adds a secret and gives the old one an end; both are tried until then', async () => {
    const { id, first } = await newClient();
    const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec: 7 * DAY }, at(60));
    expect(rotated.oldSecretExpiresAt).toEqual(at(60 + 7 * DAY));
    const secrets = (await findClient(deps.db, id))!.secrets;
    expect(secrets.map((secret) => [secret.id, secret.notAfter])).toEqual([
      [first, at(60 + 7 * DAY)],
      [rotated.id, null],
    ]);
    expect(verifyClientSecret(rotated.secret, secrets[1]!.hash)).toBe(true);
    // The previous release reads the newest secret.
    expect(verifyClientSecret(rotated.secret, await legacyHash(id))).toBe(true);
    expect((await findClient(deps.db, id))!.secretRotatedAt).toEqual(at(60));
  });

  it('refuses a third active secret, naming the two; an ended one makes room', async () => {
    const { id, first } = await newClient();
    const second = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(0));
    await expectIdentityError(rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(10)), 'too_many_secrets', new RegExp(`^(?=.*${first})(?=.*${second.id}).*remove one first`));
    await expectIdentityError(addClientSecret(deps.db, id, {}, at(10)), 'too_many_secrets');
    // keep-old-for 0 ends both old ones now: the emergency replacement.
    const third = await rotateClientSecret(deps.db, id, { keepOldForSec: 0 }, at(20));
    expect(third.oldSecretExpiresAt).toEqual(at(20));
    // After the first has ended (at 1 day), a rotation has room again and drops ended secrets.
    const fourth = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(DAY + 1));
    expect((await listClientSecrets(deps.db, id)).map((secret) => secret.id)).toEqual([third.id, fourth.id]);
  });

  it('keeps an earlier end: a rotation never lengthens an old secret\'s life', async () => {
    const { id, first } = await newClient();
    const spare = await addClientSecret(deps.db, id, {}, at(0));
    await expireClientSecret(deps.db, id, first, at(3600), at(0));
    await expireClientSecret(deps.db, id, spare.id, at(1), at(0));
    const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec: 7 * DAY }, at(10));
    expect(rotated.oldSecretExpiresAt).toEqual(at(3600));
    expect((await listClientSecrets(deps.db, id))[0]?.notAfter).toEqual(at(3600));
  });

  it('adds a given secret or hash without echoing it; refuses short, malformed or already ended ones', async () => {
    const { id } = await newClient();
    const given = await addClientSecret(deps.db, id, { secret: 'x'.repeat(40) }, at(1));
    expect(given).toEqual({ id: expect.stringMatching(/^cs_/) });
    const [, added] = (await findClient(deps.db, id))!.secrets;
    expect(verifyClientSecret('x'.repeat(40), added!.hash)).toBe(true);
    const other = await newClient();
    const hash = hashClientSecret('y'.repeat(40));
    expect(await addClientSecret(deps.db, other.id, { hash, notAfter: at(DAY) }, at(1))).toEqual({ id: expect.stringMatching(/^cs_/) });
    expect((await findClient(deps.db, other.id))!.secrets[1]).toMatchObject({ hash, notAfter: at(DAY) });
    const third = await newClient();
    await expectIdentityError(addClientSecret(deps.db, third.id, { secret: 'short' }, at(1)), 'invalid_client', /at least 32/);
    await expectIdentityError(addClientSecret(deps.db, third.id, { hash: 'sha1$abc$def' }, at(1)), 'invalid_client', /not a client secret hash/);
    await expectIdentityError(addClientSecret(deps.db, third.id, { secret: 'z'.repeat(40), hash }, at(1)), 'invalid_client', /not both/);
    await expectIdentityError(addClientSecret(deps.db, third.id, { notAfter: at(0) }, at(1)), 'invalid_client', /ended already/);
    const generated = await addClientSecret(deps.db, third.id, {}, at(1));
    expect(generated.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('removes and expires secrets, but never the last one that works', async () => {
    const { id, first } = await newClient();
    await expectIdentityError(removeClientSecret(deps.db, id, first, at(1)), 'last_secret', /rotate first/);
    await expectIdentityError(expireClientSecret(deps.db, id, first, at(DAY), at(1)), 'last_secret');
    const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(1));
    expect(await removeClientSecret(deps.db, id, 'cs_nosuchsecret', at(2))).toBe(false);
    expect(await removeClientSecret(deps.db, id, 'not a secret id', at(2))).toBe(false);
    await expectIdentityError(removeClientSecret(deps.db, 'nobody', first, at(2)), 'unknown_client');
    // The new secret of an overlap stays: without it the client would be locked out when the old one ends.
    await expectIdentityError(removeClientSecret(deps.db, id, rotated.id, at(2)), 'last_secret', /only secrets that end by .*rotate first/);
    // The old one may go: the new one lasts.
    expect(await removeClientSecret(deps.db, id, first, at(2))).toBe(true);
    expect(verifyClientSecret(rotated.secret, await legacyHash(id))).toBe(true);
    const again = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(3));
    expect(await expireClientSecret(deps.db, id, rotated.id, at(4), at(3))).toBe(true);
    expect((await listClientSecrets(deps.db, id)).map((secret) => [secret.id, secret.notAfter])).toEqual([
      [rotated.id, at(4)],
      [again.id, null],
    ]);
    // An end only moves earlier: an ended secret is not brought back.
    expect(await expireClientSecret(deps.db, id, rotated.id, at(DAY), at(5))).toBe(true);
    expect((await listClientSecrets(deps.db, id))[0]).toMatchObject({ id: rotated.id, notAfter: at(4) });
    // Another client's secret is not this client's.
    const other = await newClient();
    expect(await removeClientSecret(deps.db, other.id, again.id, at(5))).toBe(false);
  });

  it('setClientSecrets makes the set exactly the given one, keeping what did not change', async () => {
    const { id, first } = await newClient();
    const firstHash = (await findClient(deps.db, id))!.secrets[0]!.hash;
    await deps.db('client_secrets').where({ id: first }).update({ last_used_at: at(5) });
    const next = hashClientSecret('n'.repeat(40));
    expect(await setClientSecrets(deps.db, id, [{ id: first, hash: firstHash, notAfter: at(DAY) }, { id: 'file-next', hash: next, notAfter: null }], at(10))).toEqual({ changed: true });
    expect(await listClientSecrets(deps.db, id)).toEqual([
      { id: first, createdAt: at(0), notAfter: at(DAY), lastUsedAt: at(5) },
      { id: 'file-next', createdAt: at(10), notAfter: null, lastUsedAt: null },
    ]);
    expect(await legacyHash(id)).toBe(next);
    expect(await setClientSecrets(deps.db, id, [{ id: first, hash: firstHash, notAfter: at(DAY) }, { id: 'file-next', hash: next, notAfter: null }], at(11))).toEqual({ changed: false });
    // The same id with another hash is a new secret: created now, never used.
    const replaced = hashClientSecret('r'.repeat(40));
    await setClientSecrets(deps.db, id, [{ id: first, hash: replaced, notAfter: null }], at(12));
    expect(await listClientSecrets(deps.db, id)).toEqual([{ id: first, createdAt: at(12), notAfter: null, lastUsedAt: null }]);
    expect(await legacyHash(id)).toBe(replaced);

    await expectIdentityError(setClientSecrets(deps.db, id, [], at(13)), 'last_secret');
    await expectIdentityError(setClientSecrets(deps.db, id, [{ id: 'a', hash: next, notAfter: at(13) }], at(13)), 'last_secret');
    const three = ['a', 'b', 'c'].map((each) => ({ id: each, hash: next, notAfter: null }));
    await expectIdentityError(setClientSecrets(deps.db, id, three, at(13)), 'too_many_secrets');
    await expectIdentityError(setClientSecrets(deps.db, id, [{ id: 'a', hash: next, notAfter: null }, { id: 'a', hash: next, notAfter: null }], at(13)), 'invalid_client', /twice/);
    await expectIdentityError(setClientSecrets(deps.db, id, [{ id: 'a/b', hash: next, notAfter: null }], at(13)), 'invalid_client', /not a secret id/);
    await expectIdentityError(setClientSecrets(deps.db, id, [{ id: 'a', hash: 'plain', notAfter: null }], at(13)), 'invalid_client', /hash/);
    const other = await newClient();
    await expectIdentityError(setClientSecrets(deps.db, other.id, [{ id: first, hash: next, notAfter: null }], at(13)), 'invalid_client', /another client/);
    // Refusals changed nothing.
    expect((await listClientSecrets(deps.db, id)).map((secret) => secret.id)).toEqual([first]);
  });

  describe('a rolling upgrade: instances of the previous release write only clients.secret_hash', () => {
    it('a secret it rotated in replaces the table\'s, alone, until the next change adopts it', async () => {
      const { id } = await newClient();
      const replaced = 'rotated-by-the-previous-release-0123456789';
      await deps.db('clients').where({ id }).update({ secret_hash: hashClientSecret(replaced) });
      const secrets = (await findClient(deps.db, id))!.secrets;
      expect(secrets).toEqual([{ id: LEGACY_SECRET_ID, hash: await legacyHash(id), notAfter: null }]);
      const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(10));
      const adopted = await listClientSecrets(deps.db, id);
      expect(adopted).toHaveLength(2);
      const stored = (await findClient(deps.db, id))!.secrets;
      expect(verifyClientSecret(replaced, stored.find((secret) => secret.id === adopted[0]!.id)!.hash)).toBe(true);
      expect(stored.find((secret) => secret.id === rotated.id)?.notAfter).toBeNull();
    });

    it('a client it created (no row in client_secrets) authenticates with its secret', async () => {
      const hash = hashClientSecret('created-by-the-previous-release-012345');
      await deps.db('clients').insert({ id: 'old-made', name: 'old-made', type: 'confidential', secret_hash: hash, grant_types: ['client_credentials'] });
      expect((await findClient(deps.db, 'old-made'))!.secrets).toEqual([{ id: LEGACY_SECRET_ID, hash, notAfter: null }]);
    });
  });

  describe('last use', () => {
    it('is noted in memory and written by a flush, never earlier than a use already stored', async () => {
      const { id, first } = await newClient();
      const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec: DAY }, at(0));
      const recorder = new SecretUseRecorder(deps, 60_000);
      const queries: string[] = [];
      const onQuery = (query: { sql: string }) => void queries.push(query.sql);
      deps.db.on('query', onQuery);
      try {
        const clock = deps.clock as unknown as { advance(ms: number): void };
        recorder.record(first);
        clock.advance(1000);
        recorder.record(first);
        recorder.record(rotated.id);
        expect(queries).toEqual([]);
        await recorder.flush();
        expect(queries).toHaveLength(1);
        await recorder.flush();
        expect(queries).toHaveLength(1);
      } finally {
        deps.db.off('query', onQuery);
      }
      const used = new Date(deps.clock.now());
      expect((await listClientSecrets(deps.db, id)).map((secret) => secret.lastUsedAt)).toEqual([used, used]);
      // An instance whose clock is behind (or that flushes late) never moves it back.
      await deps.db('client_secrets').where({ id: first }).update({ last_used_at: new Date(used.getTime() + 5000) });
      recorder.record(first);
      await recorder.flush();
      expect((await listClientSecrets(deps.db, id)).find((secret) => secret.id === first)?.lastUsedAt).toEqual(new Date(used.getTime() + 5000));
    });

    it('flushes by itself after the interval', async () => {
      const { id, first } = await newClient();
      const recorder = new SecretUseRecorder(deps, 50);
      recorder.record(first);
      const deadline = Date.now() + 5000;
      while ((await listClientSecrets(deps.db, id))[0]?.lastUsedAt === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await listClientSecrets(deps.db, id))[0]?.lastUsedAt).toEqual(new Date(deps.clock.now()));
    });
  });
});
