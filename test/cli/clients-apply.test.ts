import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/env';
import { runCli } from '../support/process';

// `portcullis clients apply` as a CI pipeline runs it: the compiled CLI, the embedded database,
// the printed diff and the exit code.

jest.setTimeout(120_000);

const SECRET = 'a-ci-mounted-client-secret-0123456789abcdef';

describe('portcullis clients apply', () => {
  const dir = tempDir();
  const env = { DATA_DIR: dir, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' };
  const cli = (args: string[], input?: string) => runCli(args, env, input);
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const clientIds = async (): Promise<string[]> => (JSON.parse((await cli(['client', 'list', '--json'])).stdout) as Array<{ id: string }>).map((client) => client.id);
  writeFileSync(path.join(dir, 'reports-secret'), `${SECRET}\n`);

  it('hash-secret prints a hash the file takes; --dry-run prints the diff and writes nothing; then the apply does it', async () => {
    const hashed = await cli(['clients', 'hash-secret'], `${SECRET}\n`);
    expect(hashed.code).toBe(0);
    const hash = hashed.stdout.trim();
    expect(hash).toMatch(/^hmac-sha256\$/);
    expect(hashed.stdout).not.toContain(SECRET);
    const asJson = await cli(['clients', 'hash-secret', '--json'], `${SECRET}\n`);
    expect(JSON.parse(asJson.stdout)).toEqual({ secretHash: expect.stringMatching(/^hmac-sha256\$/) });

    const file = write(
      'clients.yaml',
      `clients:
  - id: reports
    type: confidential
    grantTypes: [client_credentials]
    scopes: [reports:read]
    secrets:
      - { id: reports-1, secretFile: reports-secret }
      - { id: reports-2, secretHash: "${hash}" }
  - id: portal
    type: public
    grantTypes: [authorization_code, refresh_token]
    scopes: [items:read]
    redirectUris: [https://portal.example.com/cb]
`,
    );
    const dry = await cli(['clients', 'apply', '-f', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('reports: would be created\nportal: would be created\ndry run, nothing written: 2 created, 0 changed, 0 unchanged, 0 pruned, 0 released\n');
    expect(await clientIds()).not.toContain('reports');

    const applied = await cli(['clients', 'apply', '-f', file, '--json']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ dryRun: false, created: ['reports', 'portal'], changed: [], pruned: [] });
    expect(await clientIds()).toEqual(expect.arrayContaining(['reports', 'portal']));
    expect(applied.stdout + applied.stderr).not.toContain(SECRET);
  });

  it('prints changed fields and secrets by id; a JSON file is taken too (and now manages the client); its prune leaves the other file\'s clients alone', async () => {
    const file = write(
      'clients.json',
      JSON.stringify({
        clients: [{ id: 'reports', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['reports:read', 'reports:write'], canIntrospect: true, secrets: [{ id: 'reports-1', secretFile: 'reports-secret' }] }],
      }),
    );
    const dry = await cli(['clients', 'apply', '-f', file, '--dry-run', '--prune']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      'reports: would be changed (scopes; canIntrospect; secrets: removed reports-2; managedBy)\ndry run, nothing written: 0 created, 1 changed, 0 unchanged, 0 pruned, 0 released\n',
    );
    expect(await clientIds()).toContain('portal');

    const applied = await cli(['clients', 'apply', '-f', file]);
    expect(applied.stdout).toBe('reports: changed (scopes; canIntrospect; secrets: removed reports-2; managedBy)\n0 created, 1 changed, 0 unchanged, 0 pruned, 0 released\n');
    expect((await cli(['clients', 'apply', '-f', file])).stdout).toBe('reports: unchanged\n0 created, 0 changed, 1 unchanged, 0 pruned, 0 released\n');

    // The file's client: the CLI refuses to change its secrets (the file would undo it).
    const rotate = await cli(['client', 'rotate-secret', 'reports']);
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toBe(`portcullis: client reports is managed by the clients file ${file}: change it there\n`);
    const remove = await cli(['client', 'remove-secret', 'reports', 'reports-1']);
    expect(remove.code).toBe(1);
    expect(remove.stderr).toBe(`portcullis: client reports is managed by the clients file ${file}: change it there\n`);
  });

  it('exits 1 on a bad file with one line naming it, and changes nothing', async () => {
    const plaintext = write('plain.yaml', `clients:\n  - id: reports\n    type: confidential\n    grantTypes: [client_credentials]\n    scopes: []\n    secrets:\n      - { id: x, secret: "${SECRET}" }\n`);
    const refused = await cli(['clients', 'apply', '-f', plaintext]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`portcullis: ${plaintext}: clients[0].secrets[0].secret: a plaintext secret is refused: give secretFile (a mounted secret) or secretHash (\`portcullis clients hash-secret\`)\n`);
    expect(refused.stderr).not.toContain(SECRET);

    const broken = write('broken.yaml', 'clients:\n  - id: reports\n    type: public\n    grantTypes: [password]\n    scopes: []\n  - id: bad\n    type: public\n    grantTypes: [client_credentials]\n    scopes: []\n');
    const rule = await cli(['clients', 'apply', '-f', broken]);
    expect(rule.code).toBe(1);
    expect(rule.stderr).toMatch(/broken\.yaml: clients\[0\] \(reports\): a client's type cannot change/);
    expect(await clientIds()).not.toContain('bad');
  });

  it('a file\'s revision: the dry run shows it beside the stored one and fails as the apply would; an older or missing revision is refused, exit 1, nothing changed', async () => {
    const declare = (revision: number | undefined, ids: readonly string[]) =>
      `name: rev-clients\n${revision === undefined ? '' : `revision: ${revision}\n`}clients:\n${ids.map((id) => `  - { id: ${id}, type: public, grantTypes: [password], scopes: [] }\n`).join('')}`;
    const current = write('rev-current.yaml', declare(2, ['rev-a', 'rev-b']));
    expect((await cli(['clients', 'apply', '-f', current])).stdout).toBe('revision 2 (stored for rev-clients: none): applied\nrev-a: created\nrev-b: created\n2 created, 0 changed, 0 unchanged, 0 pruned, 0 released\n');
    expect((await cli(['clients', 'apply', '-f', current, '--dry-run'])).stdout).toBe(
      'revision 2 (stored for rev-clients: 2): would be applied\nrev-a: unchanged\nrev-b: unchanged\ndry run, nothing written: 0 created, 0 changed, 2 unchanged, 0 pruned, 0 released\n',
    );

    const older = write('rev-older.yaml', declare(1, ['rev-a']));
    const message = `portcullis: ${older}: revision 1 is older than revision 2, the last applied for rev-clients: refused, nothing changed (an instance with an older copy of the file?)\n`;
    const dry = await cli(['clients', 'apply', '-f', older, '--dry-run', '--prune']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe('revision 1 (stored for rev-clients: 2): would be refused\nrev-a: unchanged\nrev-b: would be pruned\ndry run, nothing written: 0 created, 0 changed, 1 unchanged, 1 pruned, 0 released\n');
    expect(dry.stderr).toBe(message);
    const json = await cli(['clients', 'apply', '-f', older, '--dry-run', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, released: ['rev-b'], revision: { mark: 'rev-clients', file: 1, stored: 2, refused: expect.stringMatching(/^revision 1 is older than revision 2/) } });

    const refused = await cli(['clients', 'apply', '-f', older, '--prune', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(message); // after the warning that no token store is configured (prune)
    expect(await clientIds()).toEqual(expect.arrayContaining(['rev-a', 'rev-b']));

    const unnumbered = write('rev-none.yaml', declare(undefined, ['rev-a', 'rev-b']));
    const missing = await cli(['clients', 'apply', '-f', unnumbered]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`portcullis: ${unnumbered}: no revision, but revision 2 was applied for rev-clients: refused, nothing changed (once a mark's file gives a revision, every later one must)\n`);
    const unbumped = write('rev-unbumped.yaml', declare(2, ['rev-a', 'rev-b', 'rev-c']));
    expect((await cli(['clients', 'apply', '-f', unbumped])).stderr).toMatch(/revision 2 was applied for rev-clients with another declaration: refused, nothing changed \(raise revision with every change of the file\)/);
    expect(await clientIds()).not.toContain('rev-c');
  });

  it('a file that names itself is the same mark from any checkout: CI\'s prune deletes only what the file dropped', async () => {
    const declare = (ids: readonly string[]) => `name: prod-clients\nclients:\n${ids.map((id) => `  - { id: ${id}, type: public, grantTypes: [password], scopes: [] }\n`).join('')}`;
    mkdirSync(path.join(dir, 'server'));
    mkdirSync(path.join(dir, 'ci-checkout'));
    const server = write('server/clients.yaml', declare(['named-a', 'named-b']));
    expect((await cli(['clients', 'apply', '-f', server])).stdout).toBe('named-a: created\nnamed-b: created\n2 created, 0 changed, 0 unchanged, 0 pruned, 0 released\n');
    const ci = write('ci-checkout/clients.yaml', declare(['named-a']));
    // Deleting needs --yes: without it nothing happens.
    const unconfirmed = await cli(['clients', 'apply', '-f', ci, '--prune']);
    expect(unconfirmed.code).not.toBe(0);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    expect(await clientIds()).toEqual(expect.arrayContaining(['named-a', 'named-b']));
    const pruned = await cli(['clients', 'apply', '-f', ci, '--prune', '--yes']);
    expect(pruned.stdout).toBe('named-a: unchanged\nnamed-b: pruned\n0 created, 0 changed, 1 unchanged, 1 pruned, 0 released\n');
    // reports and portal belong to other marks (the earlier files' paths): untouched.
    expect(await clientIds()).toEqual(expect.arrayContaining(['reports', 'portal', 'named-a']));
    expect(await clientIds()).not.toContain('named-b');
  });
});
