import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSettled } from '../../src/clients-as-code/settle';
import { startClientsFile } from '../../src/clients-as-code/watch';
import { hashClientSecret } from '../../src/identity/client-secrets';
import { listClients } from '../../src/identity/clients';
import { createTestDeps, type TestDeps } from '../support/deps';
import { tempDir } from '../support/env';
import { until } from '../support/process';

// CLIENTS_FILE in the service, in process (README "Clients as code"): a bad file at start is
// logged and the service goes on; a file is applied only once it holds still.

const declare = (ids: readonly string[]): string =>
  ['clients:', ...ids.flatMap((id) => [`  - id: ${id}`, '    type: public', '    grantTypes: [password]', '    scopes: [items:read]'])].join('\n') + '\n';

const settle = { intervalMs: 300, maxWaitMs: 5_000 };

/**
 * Writes the file keeping its modification time, as `cp -p` does. The watcher sees the change
 * all the same (ctime, size, inode), so the apply that follows is the SIGHUP's or the watcher's,
 * whichever comes first.
 */
function writeForSighup(file: string, text: string): void {
  writeFileSync(file, text);
  utimesSync(file, 1_700_000_000, 1_700_000_000);
}
const BY_EITHER = expect.stringMatching(/^(SIGHUP|file changed)$/);

describe('CLIENTS_FILE watcher', () => {
  let deps: TestDeps;
  beforeEach(async () => {
    deps = await createTestDeps();
  });
  afterEach(async () => deps.cleanup());
  const ids = async (): Promise<string[]> => (await listClients(deps.db)).map((client) => client.id);

  it('a bad file at start is logged at error level and the service starts with the database as it is; SIGHUP applies the fixed file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    writeFileSync(file, 'clients:\n  - id: one\n    type: confidential\n    grantTypes: [client_credentials]\n    scopes: []\n    secrets: [{ id: one-1, secretFile: missing }]\n');
    let applied = 0;
    const watch = await startClientsFile(deps, file, false, () => (applied += 1), settle);
    try {
      const [failed] = deps.logs.events('clients.apply_failed');
      expect(failed).toMatchObject({ level: 'error', file, trigger: 'start' });
      expect(failed?.reason).toMatch(/clients\[0\]\.secrets\[0\]\.secretFile: ".*missing" cannot be read \(no such file\)/);
      expect(applied).toBe(0);
      expect(await ids()).toEqual([]);

      writeFileSync(file, declare(['one']));
      process.emit('SIGHUP', 'SIGHUP');
      await until(() => applied === 1, 10_000, { what: 'the SIGHUP apply' });
      expect(await ids()).toEqual(['one']);
    } finally {
      await watch.stop();
    }
  });

  it('puts a confidential client\'s settings on the audit trail without its secret or the secret\'s hash', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    const secret = 'file-secret-0123456789-0123456789-abcdef';
    const hash = hashClientSecret('another-secret-0123456789-0123456789-abc');
    writeFileSync(path.join(dir, 'svc.secret'), `${secret}\n`);
    writeFileSync(
      file,
      `clients:\n  - id: svc\n    type: confidential\n    grantTypes: [client_credentials]\n    scopes: [items:read]\n    audiences: [https://api.example.test]\n    canIntrospect: true\n    secrets:\n      - { id: svc-1, secretFile: svc.secret }\n      - { id: svc-2, secretHash: "${hash}" }\n`,
    );
    const watch = await startClientsFile(deps, file, false, () => undefined, settle);
    try {
      const [applied] = deps.logs.events('admin.clients_applied');
      expect(applied?.changes).toMatchObject({ created: ['svc'], settings: [{ id: 'svc', type: 'confidential', canIntrospect: true, audiences: ['https://api.example.test'] }] });
      const trail = JSON.stringify(deps.logs.lines());
      expect(trail).not.toContain(secret);
      expect(trail).not.toContain(hash.split('$').pop()!);
    } finally {
      await watch.stop();
    }
  });

  it('an older copy of the file arriving by SIGHUP changes nothing and logs the refusal, naming both revisions and the mark', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    writeForSighup(file, `name: prod-clients\nrevision: 2\n${declare(['a', 'b', 'new-in-2'])}`);
    let applied = 0;
    const watch = await startClientsFile(deps, file, true, () => (applied += 1), settle);
    try {
      expect(applied).toBe(1);
      expect(deps.logs.events('clients.applied')).toEqual([expect.objectContaining({ trigger: 'start', created: ['a', 'b', 'new-in-2'], revision: 2, previousRevision: null })]);
      // On the audit trail too, as the CLI's apply is.
      expect(deps.logs.events('admin.clients_applied')).toEqual([expect.objectContaining({ audit: true, via: 'clients_file', actor: 'service:clients_file', changes: expect.objectContaining({ created: ['a', 'b', 'new-in-2'] }) })]);
      // With what each created client may do (a file's grants are on the trail, not only in git).
      expect(deps.logs.events('admin.clients_applied')[0]?.changes).toMatchObject({ settings: [{ id: 'a', type: 'public', grantTypes: ['password'], scopes: ['items:read'], canIntrospect: false, audiences: [] }, { id: 'b' }, { id: 'new-in-2' }] });

      // The copy an instance not yet replaced still holds: with prune it would delete new-in-2.
      writeForSighup(file, `name: prod-clients\nrevision: 1\n${declare(['a', 'b'])}`);
      process.emit('SIGHUP', 'SIGHUP');
      await until(() => deps.logs.events('clients.apply_refused').length > 0, 10_000, { what: 'the refusal' });
      const [refusal] = deps.logs.events('clients.apply_refused');
      expect(refusal).toMatchObject({ level: 'warn', file, trigger: BY_EITHER, mark: 'prod-clients', fileRevision: 1, storedRevision: 2 });
      expect(refusal?.reason).toBe(`${file}: revision 1 is older than revision 2, the last applied for prod-clients: refused, nothing changed (an instance with an older copy of the file?)`);
      expect(applied).toBe(1);
      expect(deps.logs.events('clients.apply_failed')).toEqual([]);
      expect(await ids()).toEqual(['a', 'b', 'new-in-2']);

      // A change under the same revision (not raised) is refused too, at error level: it will not apply until fixed.
      writeForSighup(file, `name: prod-clients\nrevision: 2\n${declare(['a'])}`);
      process.emit('SIGHUP', 'SIGHUP');
      const unraised = () => deps.logs.events('clients.apply_refused').find((line) => line.fileRevision === 2);
      await until(() => unraised() !== undefined, 10_000, { what: 'the second refusal' });
      expect(unraised()).toMatchObject({ level: 'error', mark: 'prod-clients', fileRevision: 2, storedRevision: 2 });
      expect(await ids()).toEqual(['a', 'b', 'new-in-2']);

      writeForSighup(file, `name: prod-clients\nrevision: 3\n${declare(['a', 'b', 'new-in-2', 'new-in-3'])}`);
      process.emit('SIGHUP', 'SIGHUP');
      await until(() => applied >= 2, 10_000, { what: 'the apply of revision 3' });
      expect(deps.logs.events('clients.applied')[1]).toMatchObject({ trigger: BY_EITHER, created: ['new-in-3'], revision: 3, previousRevision: 2 });
    } finally {
      await watch.stop();
    }
  });

  it('applies a file replaced with the same modification time (cp -p, rsync -t), without a SIGHUP', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    writeForSighup(file, declare(['kept']));
    let applied = 0;
    const watch = await startClientsFile(deps, file, false, () => (applied += 1), settle);
    try {
      expect(applied).toBe(1);
      const replacement = path.join(dir, 'clients.yaml.new');
      writeForSighup(replacement, declare(['kept', 'added']));
      renameSync(replacement, file);
      await until(() => applied === 2, 10_000, { what: 'the watcher noticing the replaced file' });
      expect(await ids()).toEqual(['added', 'kept']);
      expect(deps.logs.events('clients.applied')[1]).toMatchObject({ trigger: 'file changed' });
    } finally {
      await watch.stop();
    }
  });

  it('applies a file written in two steps only once it is whole: a prune never sees the half', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    writeFileSync(file, declare(['a', 'b', 'c']));
    const watch = await startClientsFile(deps, file, true, () => undefined, settle);
    try {
      expect(await ids()).toEqual(['a', 'b', 'c']);
      const whole = declare(['a', 'b', 'c', 'd']);
      writeFileSync(file, whole.slice(0, whole.indexOf('  - id: b')));
      await sleep(150);
      writeFileSync(file, whole);
      await until(async () => (await ids()).includes('d'), 10_000, { what: 'the apply of the whole file' });
      await sleep(1_500);
      for (const line of deps.logs.events('clients.applied')) expect(line.pruned).toEqual([]);
      expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await watch.stop();
    }
  });
});

describe('reading a clients file once it holds still', () => {
  it('returns the text after two equal looks, waiting out a write in progress', async () => {
    const file = path.join(tempDir(), 'clients.yaml');
    writeFileSync(file, 'clients: [');
    const settled = readSettled(file, () => [], { intervalMs: 200, maxWaitMs: 5_000 });
    await sleep(100);
    writeFileSync(file, 'clients: []\n');
    expect(await settled).toBe('clients: []\n');
  });

  it('gives up on a file that keeps changing, applying nothing', async () => {
    const file = path.join(tempDir(), 'clients.yaml');
    let writes = 0;
    const writer = setInterval(() => writeFileSync(file, `clients: [] # ${(writes += 1)}\n`), 40);
    try {
      await expect(readSettled(file, () => [], { intervalMs: 100, maxWaitMs: 600 })).rejects.toThrow(/clients\.yaml: still changing after 1s: not applied/);
    } finally {
      clearInterval(writer);
    }
  });

  it('waits for a secret file that changes too', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    const secret = path.join(dir, 'secret');
    writeFileSync(file, 'clients: []\n');
    writeFileSync(secret, 'x');
    const started = Date.now();
    const settled = readSettled(file, () => [secret], { intervalMs: 200, maxWaitMs: 5_000 });
    await sleep(100);
    writeFileSync(secret, 'xy');
    await settled;
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });
});
