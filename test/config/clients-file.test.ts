import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClientsFileError, loadClientsFile, readClientsFile } from '../../src/config/clients-file';
import { loadConfig } from '../../src/config/config';
import { hashClientSecret } from '../../src/identity/client-secrets';
import { tempDir } from '../support/env';

const SECRET = 'a-mounted-secret-of-at-least-32-characters';

function write(name: string, text: string): string {
  const dir = tempDir();
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function problem(file: string): Promise<string> {
  try {
    await loadClientsFile(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ClientsFileError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('CLIENTS_FILE and CLIENTS_FILE_PRUNE settings', () => {
  it('takes the path as absolute; prune is off unless set, and refused without a file', () => {
    expect(loadConfig({ CLIENTS_FILE: 'deploy/clients.yaml' })).toMatchObject({ clientsFile: path.resolve('deploy/clients.yaml'), clientsFilePrune: false });
    expect(loadConfig({ CLIENTS_FILE: '/etc/clients.yaml', CLIENTS_FILE_PRUNE: 'true' }).clientsFilePrune).toBe(true);
    expect(loadConfig({}).clientsFile).toBeUndefined();
    expect(() => loadConfig({ CLIENTS_FILE_PRUNE: 'true' })).toThrow(/CLIENTS_FILE_PRUNE: only read with CLIENTS_FILE/);
  });
});

describe('CLIENTS_FILE: what a declaration may hold', () => {
  it('reads YAML: secrets by reference, a secretFile relative to the file, one trailing newline dropped, defaults filled in', async () => {
    const hash = hashClientSecret('another-secret-of-at-least-32-characters');
    const file = write(
      'clients.yaml',
      `clients:
  - id: reports
    type: confidential
    grantTypes: [client_credentials]
    scopes: [reports:read]
    canIntrospect: true
    secrets:
      - id: reports-2026-01
        secretFile: secrets/reports
        notAfter: 2027-01-01T00:00:00Z
      - id: reports-2026-07
        secretHash: "${hash}"
  - id: spa
    type: public
    grantTypes: [authorization_code, refresh_token]
    scopes: [items:read]
    redirectUris: [https://app.example.com/cb]
`,
    );
    mkdirSync(path.join(path.dirname(file), 'secrets'));
    writeFileSync(path.join(path.dirname(file), 'secrets', 'reports'), `${SECRET}\n`);
    const clients = await loadClientsFile(file);
    expect(clients).toEqual([
      expect.objectContaining({
        id: 'reports',
        type: 'confidential',
        canIntrospect: true,
        audiences: [],
        refreshTokenTtlSec: null,
        secrets: [
          { id: 'reports-2026-01', notAfter: new Date('2027-01-01T00:00:00Z'), secret: SECRET },
          { id: 'reports-2026-07', notAfter: null, hash },
        ],
      }),
      expect.objectContaining({ id: 'spa', type: 'public', redirectUris: ['https://app.example.com/cb'], requireConsent: false, secrets: [] }),
    ]);
    expect((await readClientsFile(file)).secretFiles).toEqual([path.join(path.dirname(file), 'secrets', 'reports')]);
  });

  it('reads the same declaration as JSON', async () => {
    const secretFile = write('secret', SECRET);
    const file = write('clients.json', JSON.stringify({ clients: [{ id: 'api', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 'api-1', secretFile }] }] }));
    expect(await loadClientsFile(file)).toEqual([expect.objectContaining({ id: 'api', secrets: [{ id: 'api-1', notAfter: null, secret: SECRET }] })]);
  });

  it('marks its clients with its top-level name, the same from any checkout; without one, with its absolute path', async () => {
    const declared = { clients: [{ id: 'api', type: 'public', grantTypes: ['password'], scopes: [] }] };
    const named = write('clients.json', JSON.stringify({ name: 'prod/clients', ...declared }));
    expect((await readClientsFile(named)).managedBy).toBe('prod/clients');
    const unnamed = write('clients.json', JSON.stringify(declared));
    expect((await readClientsFile(path.relative(process.cwd(), unnamed))).managedBy).toBe(unnamed);
    expect(await problem(write('clients.json', JSON.stringify({ name: 'has a space', ...declared })))).toMatch(/name: 1-128 printable ASCII characters/);
  });

  it('refuses a plaintext secret with its own message, and never repeats it', async () => {
    const file = write('clients.yaml', 'clients:\n  - id: api\n    type: confidential\n    grantTypes: [client_credentials]\n    scopes: []\n    secrets:\n      - id: one\n        secret: hunter2-hunter2-hunter2-hunter2-hunter2\n');
    const message = await problem(file);
    expect(message).toContain(`${file}: clients[0].secrets[0].secret: a plaintext secret is refused: give secretFile (a mounted secret) or secretHash`);
    expect(message).not.toContain('hunter2');
    const onClient = await problem(write('clients.yaml', 'clients:\n  - id: api\n    type: confidential\n    secret: hunter2-hunter2-hunter2-hunter2-hunter2\n    grantTypes: [client_credentials]\n    scopes: []\n'));
    expect(onClient).toMatch(/clients\[0\]\.secret: a plaintext secret is refused/);
    expect(onClient).not.toContain('hunter2');
  });

  it('refuses unknown keys, each with its path', async () => {
    const message = await problem(
      write('clients.json', JSON.stringify({ version: 1, clients: [{ id: 'a', type: 'public', grantTypes: ['password'], scopes: [], origins: ['https://a.example'], grants: ['password'] }] })),
    );
    expect(message).toContain('version: unknown key');
    expect(message).toContain('clients[0].origins: unknown key');
    expect(message).toContain('clients[0].grants: unknown key');
  });

  it.each([
    ['a type that is not one', { id: 'a', type: 'robot', grantTypes: ['password'], scopes: [] }, /clients\[0\]\.type: /],
    ['a public client with a secret', { id: 'a', type: 'public', grantTypes: ['password'], scopes: [], secrets: [{ id: 's', secretHash: hashClientSecret(SECRET) }] }, /clients\[0\]\.secrets: a public client has no secret/],
    ['a confidential client without one', { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [] }, /clients\[0\]\.secrets: a confidential client needs a secret/],
    ['three secrets', { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: ['1', '2', '3'].map((id) => ({ id, secretHash: hashClientSecret(SECRET) })) }, /at most two secrets/],
    ['both references', { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 's', secretHash: hashClientSecret(SECRET), secretFile: '/x' }] }, /exactly one of secretFile or secretHash/],
    ['a hash of another kind', { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 's', secretHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' }] }, /secretHash: not a client secret hash/],
    ['a date without an offset', { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 's', secretHash: hashClientSecret(SECRET), notAfter: '2027-01-01' }] }, /secrets\[0\]\.notAfter/],
  ])('refuses %s', async (_what, client, expected) => {
    expect(await problem(write('clients.json', JSON.stringify({ clients: [client] })))).toMatch(expected);
  });

  it('refuses a client id or a secret id given twice', async () => {
    const hash = hashClientSecret(SECRET);
    const twice = { id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 's', secretHash: hash }] };
    expect(await problem(write('clients.json', JSON.stringify({ clients: [twice, twice] })))).toMatch(/clients\[1\]\.id: client id "a" declared twice/);
    const shared = { ...twice, id: 'b' };
    expect(await problem(write('clients.json', JSON.stringify({ clients: [twice, shared] })))).toMatch(/clients\[1\]\.secrets\[0\]\.id: secret id "s" is also client a's/);
  });

  it('refuses a secretFile that cannot be read or is too short, naming the path and never the content', async () => {
    const client = (secretFile: string) => JSON.stringify({ clients: [{ id: 'a', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 's', secretFile }] }] });
    expect(await problem(write('clients.json', client('/nonexistent/secret')))).toMatch(/clients\[0\]\.secrets\[0\]\.secretFile: "\/nonexistent\/secret" cannot be read \(no such file\)/);
    const short = write('short', 'tiny-secret\n');
    const message = await problem(write('clients.json', client(short)));
    expect(message).toMatch(/is shorter than 32 characters/);
    expect(message).not.toContain('tiny-secret');
  });

  it('refuses a file that is not YAML with a position, not the line itself', async () => {
    const file = write('clients.yaml', 'clients:\n  - id: api\n    secretHash: "unterminated-and-secret-looking\n');
    const message = await problem(file);
    expect(message).toMatch(new RegExp(`^${file}: not valid YAML or JSON at line \\d+, column \\d+: `));
    expect(message).not.toContain('unterminated-and-secret-looking');
    expect(await problem(write('clients.yaml', 'clients: []\nclients: []\n'))).toMatch(/not valid YAML or JSON at line 2/);
    expect(await problem(path.join(tempDir(), 'missing.yaml'))).toMatch(/missing\.yaml: cannot be read \(no such file\)/);
  });

  it('refuses an alias bomb, an oversized file and a FIFO without parsing or blocking', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdef'[index]}`).join(', ')}]`)];
    expect(await problem(write('clients.yaml', `${levels.join('\n')}\nclients: []\n`))).toMatch(/clients\.yaml: not usable YAML: Excessive alias count/);
    const huge = write('clients.json', JSON.stringify({ clients: [], padding: 'x'.repeat(1024 * 1024) }));
    expect(await problem(huge)).toBe(`${huge}: is larger than 1 MiB: too large for a clients file`);
    const fifo = path.join(tempDir(), 'clients.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await problem(fifo)).toBe(`${fifo}: is not a regular file`);
  });
});

describe('CLIENTS_FILE: revision and the declaration digest', () => {
  const api = { id: 'api', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['a:read', 'b:read'], secrets: [{ id: 'api-1', secretFile: 'api-secret' }] };
  const spa = { id: 'spa', type: 'public', grantTypes: ['password'], scopes: [] };
  const read = async (declaration: object, secret = SECRET): Promise<Awaited<ReturnType<typeof readClientsFile>>> => {
    const file = write('clients.json', JSON.stringify(declaration));
    writeFileSync(path.join(path.dirname(file), 'api-secret'), secret);
    return readClientsFile(file);
  };

  it('takes a whole revision of 1 or more, and none', async () => {
    expect((await read({ revision: 7, clients: [spa] })).revision).toBe(7);
    expect((await read({ clients: [spa] })).revision).toBeUndefined();
    for (const revision of [0, -1, 1.5, '3']) {
      expect(await problem(write('clients.json', JSON.stringify({ revision, clients: [spa] })))).toMatch(/clients\.json: revision: a whole number, 1 or more$/);
    }
  });

  it('digests what the file declares: the same from another copy, in another order, with defaults written out or a secret file\'s new content', async () => {
    const { digest } = await read({ revision: 1, clients: [api, spa] });
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // Another checkout (secretFile paths as written, not resolved), another revision or name.
    expect((await read({ name: 'prod', revision: 2, clients: [api, spa] })).digest).toBe(digest);
    expect((await read({ clients: [spa, { ...api, scopes: ['b:read', 'a:read', 'a:read'] }] })).digest).toBe(digest);
    expect((await read({ clients: [api, { ...spa, name: 'spa', canIntrospect: false, redirectUris: [] }] })).digest).toBe(digest);
    // The mounted secret changed: the same declaration, so the same revision applies it.
    expect((await read({ clients: [api, spa] }, 'another-mounted-secret-of-32-characters-or-more')).digest).toBe(digest);
  });

  it('a change of a setting or a secret reference is another digest; it never holds a secret', async () => {
    const { digest } = await read({ clients: [api, spa] });
    const others = [
      { clients: [{ ...api, scopes: ['a:read'] }, spa] },
      { clients: [{ ...api, secrets: [{ id: 'api-1', secretFile: './api-secret' }] }, spa] },
      { clients: [{ ...api, secrets: [{ id: 'api-2', secretFile: 'api-secret' }] }, spa] },
      { clients: [{ ...api, secrets: [{ id: 'api-1', secretFile: 'api-secret', notAfter: '2030-01-01T00:00:00Z' }] }, spa] },
      { clients: [{ ...api, secrets: [{ id: 'api-1', secretHash: hashClientSecret(SECRET) }] }, spa] },
      { clients: [api] },
    ];
    const digests = await Promise.all(others.map(async (declaration) => (await read(declaration)).digest));
    expect(new Set([digest, ...digests]).size).toBe(others.length + 1);
  });
});
