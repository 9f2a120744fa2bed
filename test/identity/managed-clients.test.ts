import request from 'supertest';
import { hashClientSecret } from '../../src/identity/client-secrets';
import { listClientSecrets } from '../../src/identity/client-secret-records';
import { addClientSecret, expireClientSecret, removeClientSecret, rotateClientSecret } from '../../src/identity/client-secret-store';
import { deleteClient, findClient, updateClient } from '../../src/identity/clients';
import { applyManagedClients, clientManager, PrunedTokensNotEnded, RevisionRefused, type ManagedClient } from '../../src/identity/managed-clients';
import { managedClientError } from '../../src/identity/client-manager';
import { createTestDeps, type TestDeps } from '../support/deps';
import { databaseKinds } from '../support/env';
import { basic, oauthFixture } from '../support/oauth-fixture';

const OLD = 'the-old-secret-of-a-worker-at-least-32-chars';
const NEW = 'the-new-secret-of-a-worker-at-least-32-chars';
const NEW_HASH = hashClientSecret(NEW);
const FILE = '/etc/portcullis/clients.yaml';

const defaults = { defaultScopes: [], audiences: [], corsOrigins: [], canIntrospect: false, redirectUris: [], postLogoutRedirectUris: [], requireConsent: false, refreshTokenTtlSec: null, refreshIdleTtlSec: null, refreshTokenInCookie: false };
const worker = (secrets: ManagedClient['secrets'], more: Partial<ManagedClient> = {}): ManagedClient => ({
  ...defaults,
  id: 'worker',
  type: 'confidential',
  grantTypes: ['client_credentials'],
  scopes: ['items:read', 'reports:read'],
  secrets,
  ...more,
});
const app: ManagedClient = { ...defaults, id: 'app', name: 'App', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], secrets: [] };

describe('clients as code: applying a declaration', () => {
  let f: Awaited<ReturnType<typeof oauthFixture>>;
  const apply = (clients: readonly ManagedClient[], { prune = false, dryRun = false } = {}) => applyManagedClients(f.deps, clients, { managedBy: FILE, prune, dryRun });
  const authenticates = async (secret: string) =>
    (await request(f.app.callback()).post('/oauth/token').type('form').set('Authorization', basic('worker', secret)).send({ grant_type: 'client_credentials' })).status;

  beforeAll(async () => {
    // No client cache here: what is asked is what the database holds (the service's cache is
    // cleared after each apply; test/e2e/clients-file.test.ts).
    f = await oauthFixture({ CLIENT_CACHE_TTL: '0' });
  });
  afterAll(async () => f.deps.cleanup());

  it('creates the declared clients, marked as the file\'s; applied again, nothing changes', async () => {
    const first = await apply([worker([{ id: 'worker-old', notAfter: null, secret: OLD }]), app]);
    expect(first).toEqual({
      dryRun: false,
      created: ['worker', 'app'],
      changed: [],
      unchanged: [],
      pruned: [],
      released: [],
      // For the audit trail: what each created client may do, never its secrets.
      settings: [expect.objectContaining({ id: 'worker', type: 'confidential' }), expect.objectContaining({ id: 'app', type: 'public', grantTypes: ['password', 'refresh_token'] })],
    });
    expect(JSON.stringify(first.settings)).not.toMatch(/secret|hash/i);
    expect(await findClient(f.deps.db, 'app')).toMatchObject({ name: 'App', type: 'public', grantTypes: ['password', 'refresh_token'] });
    expect(await clientManager(f.deps.db, 'worker')).toBe(FILE);
    expect(await authenticates(OLD)).toBe(200);
    const [secret] = await listClientSecrets(f.deps.db, 'worker');
    expect(secret).toMatchObject({ id: 'worker-old', notAfter: null });

    const again = await apply([worker([{ id: 'worker-old', notAfter: null, secret: OLD }]), { ...app, scopes: ['items:read', 'items:read'] }]);
    expect(again).toMatchObject({ created: [], changed: [], unchanged: ['worker', 'app'] });
    // The secret read from its file again is the same secret: its record (creation, last use) stays.
    expect(await listClientSecrets(f.deps.db, 'worker')).toEqual([secret]);
  });

  it('changes what differs and names the fields', async () => {
    const result = await apply([worker([{ id: 'worker-old', notAfter: null, secret: OLD }], { canIntrospect: true, scopes: ['items:read'] }), { ...app, name: undefined }]);
    expect(result.changed).toEqual([
      { id: 'worker', fields: ['scopes', 'canIntrospect'] },
      { id: 'app', fields: ['name'] },
    ]);
    expect(await findClient(f.deps.db, 'worker')).toMatchObject({ canIntrospect: true, scopes: ['items:read'] });
    // No name: the id, as createClient does.
    expect((await findClient(f.deps.db, 'app'))?.name).toBe('app');
    await apply([worker([{ id: 'worker-old', notAfter: null, secret: OLD }]), app]);
  });

  it('rotates with overlap: a second secret works beside the first, then the first is dropped', async () => {
    const overlap = await apply([worker([{ id: 'worker-old', notAfter: null, secret: OLD }, { id: 'worker-new', notAfter: null, hash: NEW_HASH }]), app]);
    expect(overlap.changed).toEqual([{ id: 'worker', fields: ['secrets'], secrets: { added: ['worker-new'], removed: [], replaced: [], expiry: [] } }]);
    expect(await authenticates(OLD)).toBe(200);
    expect(await authenticates(NEW)).toBe(200);

    const dropped = await apply([worker([{ id: 'worker-new', notAfter: null, hash: NEW_HASH }]), app]);
    expect(dropped.changed).toEqual([{ id: 'worker', fields: ['secrets'], secrets: { added: [], removed: ['worker-old'], replaced: [], expiry: [] } }]);
    expect(await authenticates(OLD)).toBe(401);
    expect(await authenticates(NEW)).toBe(200);
  });

  it('refuses the whole declaration when one client breaks a rule, and writes nothing', async () => {
    const before = await findClient(f.deps.db, 'worker');
    const broken = { ...app, id: 'broken', grantTypes: ['client_credentials'] };
    await expect(apply([worker([{ id: 'worker-new', notAfter: null, secret: NEW }], { scopes: ['reports:read'] }), broken, { ...app, id: 'third' }])).rejects.toThrow(
      /^clients\[1\] \(broken\): a public client cannot use client_credentials$/,
    );
    expect(await findClient(f.deps.db, 'worker')).toEqual(before);
    expect(await findClient(f.deps.db, 'broken')).toBeUndefined();
    await expect(apply([worker([{ id: 'worker-new', notAfter: null, secret: NEW }], { type: 'public', grantTypes: ['password'], secrets: [] }), app])).rejects.toThrow(/clients\[0\] \(worker\): a client's type cannot change/);
  });

  it('a dry run reports what would change and writes nothing', async () => {
    const result = await apply([worker([{ id: 'worker-new', notAfter: null, secret: NEW }], { scopes: ['reports:read'] }), { ...app, id: 'app2' }], { dryRun: true, prune: true });
    expect(result).toMatchObject({ dryRun: true, created: ['app2'], changed: [{ id: 'worker', fields: ['scopes'] }], pruned: ['app'] });
    expect(await findClient(f.deps.db, 'app2')).toBeUndefined();
    expect(await findClient(f.deps.db, 'app')).toBeDefined();
    expect((await findClient(f.deps.db, 'worker'))?.scopes).toEqual(['items:read', 'reports:read']);
  });

  it('prune deletes managed clients the file dropped and ends their tokens; without prune they are released; hand-made clients are never pruned', async () => {
    await apply([worker([{ id: 'worker-new', notAfter: null, secret: NEW }]), app, { ...app, id: 'app2' }]);
    const issued = await request(f.app.callback()).post('/oauth/token').type('form').set('Authorization', basic('worker', NEW)).send({ grant_type: 'client_credentials' });
    const token = issued.body.access_token as string;

    const released = await apply([worker([{ id: 'worker-new', notAfter: null, secret: NEW }]), app]);
    expect(released).toMatchObject({ pruned: [], released: ['app2'] });
    expect(await findClient(f.deps.db, 'app2')).toBeDefined();
    expect(await clientManager(f.deps.db, 'app2')).toBeUndefined();

    const pruned = await apply([app], { prune: true });
    expect(pruned).toMatchObject({ pruned: ['worker'], released: [] });
    expect(await findClient(f.deps.db, 'worker')).toBeUndefined();
    // Hand-made: the fixture's clients and the released app2.
    for (const id of ['spa', 'service', 'rs', 'app2']) expect(await findClient(f.deps.db, id)).toBeDefined();
    const introspected = await request(f.app.callback()).post('/oauth/introspect').type('form').set('Authorization', basic('rs', 'resource-server-secret-with-32-characters-or-more')).send({ token });
    expect(introspected.body).toEqual({ active: false });
  });

  it('prune and release touch only the clients of this mark: another file\'s clients stay as they are', async () => {
    const other = '/srv/ci-checkout/deploy/clients.yaml';
    const theirs = { ...app, id: 'theirs' };
    await applyManagedClients(f.deps, [theirs], { managedBy: other, prune: false, dryRun: false });
    const mine = await apply([{ ...app, id: 'mine' }]);
    expect(mine.created).toEqual(['mine']);

    // This mark declares nothing of the other's: a prune here deletes only its own dropped clients.
    const pruned = await apply([app], { prune: true });
    expect(pruned).toMatchObject({ pruned: ['mine'], released: [] });
    expect(await clientManager(f.deps.db, 'theirs')).toBe(other);
    const released = await applyManagedClients(f.deps, [], { managedBy: FILE, prune: false, dryRun: false });
    expect(released.released).toEqual(['app']);
    expect(await clientManager(f.deps.db, 'theirs')).toBe(other);
  });

  it('creates a confidential client with its declared secrets and no other; one that has ended already is refused', async () => {
    await apply([worker([{ id: 'worker-new', notAfter: null, hash: NEW_HASH }], { id: 'fresh' })].map((client) => ({ ...client, secrets: [{ id: 'fresh-1', notAfter: null, hash: NEW_HASH }] })));
    expect(await f.deps.db('client_secrets').where({ client_id: 'fresh' }).select('id', 'secret_hash')).toEqual([{ id: 'fresh-1', secret_hash: NEW_HASH }]);
    expect(await f.deps.db('clients').where({ id: 'fresh' }).first('secret_hash')).toEqual({ secret_hash: NEW_HASH });
    const ended = { ...worker([{ id: 'stale-1', notAfter: new Date(f.deps.clock.now() - 1000), hash: NEW_HASH }]), id: 'stale' };
    await expect(apply([ended])).rejects.toThrow(/clients\[0\] \(stale\): client stale needs at least one secret that has not ended/);
    expect(await findClient(f.deps.db, 'stale')).toBeUndefined();
  });

  it('ends pruned clients\' tokens only after the deletion is committed; a failed revocation is reported with the committed result', async () => {
    const revoked: string[] = [];
    const recording = { ...f.deps, revocations: { revokeClientTokensBefore: async (id: string) => void revoked.push(id) } };
    await apply([{ ...app, id: 'doomed' }, { ...app, id: 'kept' }]);
    const broken = { ...app, id: 'broken', grantTypes: ['client_credentials'] };
    await expect(applyManagedClients(recording, [{ ...app, id: 'kept' }, broken], { managedBy: FILE, prune: true, dryRun: false })).rejects.toThrow(/broken/);
    // The transaction failed: nothing pruned, no token ended.
    expect(revoked).toEqual([]);
    expect(await findClient(f.deps.db, 'doomed')).toBeDefined();

    const failing = { ...f.deps, revocations: { revokeClientTokensBefore: async () => Promise.reject(new Error('store down')) } };
    const error = await applyManagedClients(failing, [{ ...app, id: 'kept' }], { managedBy: FILE, prune: true, dryRun: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrunedTokensNotEnded);
    expect(error).toMatchObject({ clientIds: ['doomed'], result: { pruned: ['doomed'] } });
    expect((error as Error).message).toMatch(/^pruned doomed, but their access tokens could not be ended \(store down\)/);
    expect(await findClient(f.deps.db, 'doomed')).toBeUndefined();
  });

  it('refuses a prune of a file that declares no clients: it would delete every client the mark manages', async () => {
    await apply([{ ...app, id: 'only' }]);
    await expect(apply([], { prune: true })).rejects.toThrow(/declares no clients: a prune would delete all 1 clients it manages \(only\); refused/);
    expect(await clientManager(f.deps.db, 'only')).toBe(FILE);
    // Without prune it releases them.
    expect((await apply([])).released).toEqual(['only']);
  });

  it('a change by hand of a managed client is refused where it is made, under the row lock; the apply itself may change it', async () => {
    await apply([worker([{ id: 'worker-m', notAfter: null, hash: NEW_HASH }], { id: 'managed' })]);
    const now = new Date(f.deps.clock.now());
    const refused = /^client managed is managed by the clients file \/etc\/portcullis\/clients\.yaml: change it there$/;
    const attempts: Array<() => Promise<unknown>> = [
      () => updateClient(f.deps.db, 'managed', { name: 'Renamed' }, now),
      () => deleteClient(f.deps.db, 'managed'),
      () => rotateClientSecret(f.deps.db, 'managed', { keepOldForSec: 60 }, now),
      () => addClientSecret(f.deps.db, 'managed', { hash: NEW_HASH }, now),
      () => removeClientSecret(f.deps.db, 'managed', 'worker-m', now),
      () => expireClientSecret(f.deps.db, 'managed', 'worker-m', now, now),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ code: 'managed_client', message: expect.stringMatching(refused) });
    let hookRan = false;
    await expect(deleteClient(f.deps.db, 'managed', { beforeDelete: async () => void (hookRan = true) })).rejects.toMatchObject({ code: 'managed_client' });
    expect(hookRan).toBe(false);
    expect(await findClient(f.deps.db, 'managed')).toMatchObject({ name: 'managed', secrets: [{ id: 'worker-m', hash: NEW_HASH, notAfter: null }] });

    const changed = await apply([worker([{ id: 'worker-m', notAfter: null, hash: NEW_HASH }], { id: 'managed', name: 'By the file' })]);
    expect(changed.changed).toEqual([{ id: 'managed', fields: ['name'] }]);
  });
});

describe('a mark in messages', () => {
  it('shows a path\'s control characters escaped: a terminal never gets them', () => {
    const message = managedClientError('api', '/srv/x\n\u001b[31mred/clients.yaml').message;
    expect(message).toBe('client api is managed by the clients file /srv/x\\u000a\\u001b[31mred/clients.yaml: change it there');
  });
});

describe.each(databaseKinds())('clients as code: a file\'s revision (%s)', (kind) => {
  const MARK = 'prod-clients';
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await createTestDeps({ db: kind });
  });
  afterEach(async () => deps.cleanup());

  const apply = (clients: readonly ManagedClient[], revision: number | undefined, digest: string, { prune = false, dryRun = false, managedBy = MARK } = {}) =>
    applyManagedClients(deps, clients, { managedBy, prune, dryRun, revision: { revision, digest } });
  const stored = async () => deps.db('clients_file_revisions').where({ mark: MARK }).first<{ revision: string | number; digest: string } | undefined>('revision', 'digest');
  const secretIds = async (id = 'worker') => (await findClient(deps.db, id))?.secrets.map((secret) => secret.id);
  const refused = async (applying: Promise<unknown>): Promise<RevisionRefused> => {
    const error = await applying.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RevisionRefused);
    return error as RevisionRefused;
  };
  // Revision 2 dropped the leaked secret and added a client; an instance still holding revision 1 restarts.
  const v1 = [worker([{ id: 'leaked', notAfter: null, hash: hashClientSecret(OLD) }, { id: 'fresh', notAfter: null, hash: NEW_HASH }]), app];
  const v2 = [worker([{ id: 'fresh', notAfter: null, hash: NEW_HASH }]), app, { ...app, id: 'new-app' }];

  it('a mark that never used revisions applies as before: no revision in the result, nothing stored', async () => {
    expect(await apply([app], undefined, 'd0')).toEqual({ dryRun: false, created: ['app'], changed: [], unchanged: [], pruned: [], released: [], settings: [expect.objectContaining({ id: 'app' })] });
    expect(await apply([], undefined, 'd1')).toEqual({ dryRun: false, created: [], changed: [], unchanged: [], pruned: [], released: ['app'], settings: [] });
    expect(await deps.db('clients_file_revisions').pluck('mark')).toEqual([]);
  });

  it('a higher revision applies and is stored with its digest', async () => {
    expect((await apply(v1, 1, 'd1')).revision).toEqual({ mark: MARK, file: 1, stored: null });
    expect(await stored()).toEqual({ revision: expect.anything(), digest: 'd1' });
    const result = await apply(v2, 202607011230, 'd2', { prune: true });
    expect(result).toMatchObject({ created: ['new-app'], revision: { mark: MARK, file: 202607011230, stored: 1 } });
    expect(result.revision?.refused).toBeUndefined();
    expect(Number((await stored())?.revision)).toBe(202607011230);
    expect(await secretIds()).toEqual(['fresh']);
  });

  it('a lower revision is refused and changes nothing: no secret revived, no setting reverted, nothing pruned', async () => {
    await apply(v1, 1, 'd1');
    await apply(v2.map((client) => (client.id === 'worker' ? { ...client, canIntrospect: true } : client)), 2, 'd2');
    const error = await refused(apply(v1, 1, 'd1', { prune: true }));
    expect(error.message).toBe('revision 1 is older than revision 2, the last applied for prod-clients: refused, nothing changed (an instance with an older copy of the file?)');
    expect(error.check).toEqual({ mark: MARK, file: 1, stored: 2, refused: error.message });
    expect(await secretIds()).toEqual(['fresh']);
    expect((await findClient(deps.db, 'worker'))?.canIntrospect).toBe(true);
    expect(await clientManager(deps.db, 'new-app')).toBe(MARK);
    expect(await stored()).toEqual({ revision: expect.anything(), digest: 'd2' });
    expect(Number((await stored())?.revision)).toBe(2);
  });

  it('an older copy under another mark (its name: added or renamed since) cannot take the clients back', async () => {
    // v1 had no name (its mark: the path) and no revision; v2 named the file and gave a revision.
    await apply(v1, undefined, 'd1', { managedBy: '/etc/portcullis/clients.yaml' });
    await apply(v2, 2, 'd2');
    expect(await clientManager(deps.db, 'worker')).toBe(MARK);
    const error = await refused(apply(v1, undefined, 'd1', { managedBy: '/etc/portcullis/clients.yaml' }));
    expect(error.message).toMatch(/^client worker is managed by "prod-clients", which applies revisions: another mark may not take it .*refused, nothing changed/);
    expect(await secretIds()).toEqual(['fresh']);
    expect(await clientManager(deps.db, 'worker')).toBe(MARK);
    // A dry run shows it and would fail the same way.
    expect((await apply(v1, undefined, 'd1', { managedBy: '/etc/portcullis/clients.yaml', dryRun: true })).revision?.refused).toBe(error.message);
    // A client of a mark without revisions may still be taken (how a deployment adopts name:).
    await apply([{ ...app, id: 'loose' }], undefined, 'd', { managedBy: 'other-file' });
    expect((await apply([...v2, { ...app, id: 'loose' }], 3, 'd3')).created).toEqual([]);
    expect(await clientManager(deps.db, 'loose')).toBe(MARK);
  });

  it('the same revision with another declaration is refused: the revision was not raised', async () => {
    await apply(v1, 3, 'd3');
    const error = await refused(apply(v2, 3, 'another'));
    expect(error.message).toBe('revision 3 was applied for prod-clients with another declaration: refused, nothing changed (raise revision with every change of the file)');
    expect(await findClient(deps.db, 'new-app')).toBeUndefined();
    expect((await secretIds())?.sort()).toEqual(['fresh', 'leaked']);
  });

  it('the same revision with the same declaration applies again: a mounted secret\'s new content is taken', async () => {
    await apply([worker([{ id: 'mounted', notAfter: null, secret: OLD }])], 4, 'd4');
    const again = await apply([worker([{ id: 'mounted', notAfter: null, secret: NEW }])], 4, 'd4');
    expect(again).toMatchObject({ changed: [{ id: 'worker', fields: ['secrets'], secrets: { replaced: ['mounted'] } }], revision: { mark: MARK, file: 4, stored: 4 } });
    expect(again.revision?.refused).toBeUndefined();
    expect((await apply([worker([{ id: 'mounted', notAfter: null, secret: NEW }])], 4, 'd4')).unchanged).toEqual(['worker']);
  });

  it('a file without a revision is refused once its mark has used one; another mark is not concerned', async () => {
    await apply(v2, 5, 'd5');
    const error = await refused(apply(v1, undefined, 'd1', { prune: true }));
    expect(error.message).toBe('no revision, but revision 5 was applied for prod-clients: refused, nothing changed (once a mark\'s file gives a revision, every later one must)');
    expect(error.check).toMatchObject({ file: null, stored: 5 });
    expect(await findClient(deps.db, 'new-app')).toBeDefined();
    expect((await apply([{ ...app, id: 'theirs' }], undefined, 'x', { managedBy: '/srv/other/clients.yaml' })).revision).toBeUndefined();
  });

  it('a dry run reports the refusal beside what the file differs by, and writes nothing; a dry run of a higher revision stores nothing', async () => {
    await apply(v2, 2, 'd2');
    const dry = await apply(v1, 1, 'd1', { dryRun: true, prune: true });
    expect(dry).toMatchObject({ dryRun: true, changed: [{ id: 'worker', fields: ['secrets'] }], pruned: ['new-app'], revision: { mark: MARK, file: 1, stored: 2, refused: expect.stringMatching(/^revision 1 is older than revision 2/) } });
    expect(await findClient(deps.db, 'new-app')).toBeDefined();
    const higher = await apply(v1, 3, 'd3', { dryRun: true });
    expect(higher.revision).toEqual({ mark: MARK, file: 3, stored: 2 });
    expect(await stored()).toEqual({ revision: expect.anything(), digest: 'd2' });
  });
});
