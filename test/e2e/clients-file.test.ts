import { statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashClientSecret } from '../../src/identity/client-secrets';
import { tempDir } from '../support/env';
import { startServiceProcess, until, type ServiceProcess } from '../support/process';

// Clients as code in a running service (README "Clients as code"): CLIENTS_FILE applied at
// start, on SIGHUP and when the file changes, while a service authenticates without a pause.

jest.setTimeout(120_000);

const SECRET_A = 'worker-secret-a-mounted-from-a-file-0123456789';
const SECRET_B = 'worker-secret-b-given-by-its-hash-in-the-file-0123';

interface LogLine {
  event?: string;
  trigger?: string;
  file?: string;
  reason?: string;
  changed?: Record<string, string[]>;
  created?: string[];
}

const events = (service: ServiceProcess, event: string): LogLine[] =>
  service
    .stdout()
    .split('\n')
    .filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line) as LogLine);

async function clientCredentials(service: ServiceProcess, secret: string): Promise<number> {
  const res = await fetch(`${service.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`worker:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  await res.arrayBuffer();
  return res.status;
}

function declaration(secrets: object[], scopes = ['items:read']): string {
  return [
    'clients:',
    '  - id: worker',
    '    type: confidential',
    '    grantTypes: [client_credentials]',
    `    scopes: [${scopes.join(', ')}]`,
    '    secrets:',
    ...secrets.map((secret) => `      - ${JSON.stringify(secret)}`),
    '  - id: dashboard',
    '    type: public',
    '    grantTypes: [password, refresh_token]',
    '    scopes: [items:read]',
    '',
  ].join('\n');
}

/** Writes the file keeping its modification time: only a SIGHUP makes the service read it. */
function writeUnnoticed(file: string, text: string): void {
  const { atime, mtime } = statSync(file);
  writeFileSync(file, text);
  utimesSync(file, atime, mtime);
}

describe('CLIENTS_FILE in a running service', () => {
  it('rotates a secret through the file, by SIGHUP and by a change of the file, while a client authenticates in a loop with zero failures', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.yaml');
    writeFileSync(path.join(dir, 'worker-a'), `${SECRET_A}\n`);
    const hashB = hashClientSecret(SECRET_B);
    writeFileSync(file, declaration([{ id: 'worker-a', secretFile: 'worker-a' }]));
    // CLIENT_CACHE_TTL stays long: the service forgets cached clients after each apply itself.
    const service = await startServiceProcess({ DATA_DIR: dir, CLIENTS_FILE: file, CLIENT_CACHE_TTL: '5m', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    let secret = SECRET_A;
    let stop = false;
    const failures: string[] = [];
    let attempts = 0;
    const loop = (async () => {
      while (!stop) {
        const used = secret;
        const status = await clientCredentials(service, used);
        attempts += 1;
        if (status !== 200) failures.push(`${status} with secret ${used === SECRET_A ? 'A' : 'B'}`);
      }
    })();
    try {
      expect(events(service, 'clients.applied')).toEqual([expect.objectContaining({ trigger: 'start', file, created: ['worker', 'dashboard'] })]);
      await until(() => attempts > 20, 10_000, { what: 'the loop running' });

      // The overlap: B beside A, read on SIGHUP alone.
      writeUnnoticed(file, declaration([{ id: 'worker-a', secretFile: 'worker-a' }, { id: 'worker-b', secretHash: hashB }]));
      service.child.kill('SIGHUP');
      await until(() => events(service, 'clients.applied').some((line) => line.trigger === 'SIGHUP'), 10_000, { what: 'the SIGHUP apply' });
      expect(events(service, 'clients.applied').at(-1)).toMatchObject({ changed: { worker: ['secrets'] } });
      const before = attempts;
      secret = SECRET_B;
      await until(() => attempts > before + 20, 10_000, { what: 'the loop on secret B' });

      // A dropped: the file changes, the watcher applies it, and this instance forgets A at once.
      writeFileSync(file, declaration([{ id: 'worker-b', secretHash: hashB }], ['items:read', 'reports:read']));
      await until(() => events(service, 'clients.applied').some((line) => line.trigger === 'file changed'), 10_000, { what: 'the apply of the changed file' });
      expect(events(service, 'clients.applied').at(-1)).toMatchObject({ changed: { worker: ['scopes', 'secrets'] } });
      expect(await clientCredentials(service, SECRET_A)).toBe(401);
      const after = attempts;
      await until(() => attempts > after + 20, 10_000, { what: 'the loop after the change' });

      // A bad file: refused with one log line, the clients stay as they were.
      writeUnnoticed(file, 'clients:\n  - id: worker\n    type: confidential\n    secret: not-ever-written-to-a-log-0123456789\n');
      service.child.kill('SIGHUP');
      await until(() => events(service, 'clients.apply_failed').length > 0, 10_000, { what: 'the refusal' });
      // One line per refusal. The signal may join an apply the poller queued (writeUnnoticed
      // restores the time to the millisecond, not the nanosecond), which then reads this file.
      const refusals = events(service, 'clients.apply_failed');
      for (const refusal of refusals) {
        expect(refusal).toMatchObject({ file });
        expect(['SIGHUP', 'file changed']).toContain(refusal.trigger);
        expect(refusal.reason).toMatch(/^.*clients\.yaml: clients\[0\]\.secret: a plaintext secret is refused/);
      }
      const settled = attempts;
      await until(() => attempts > settled + 20, 10_000, { what: 'the loop after the refusal' });
      expect(await clientCredentials(service, SECRET_A)).toBe(401);
    } finally {
      stop = true;
      await loop;
      service.child.kill('SIGTERM');
      await service.exited();
    }
    expect(failures).toEqual([]);
    expect(attempts).toBeGreaterThan(80);
    for (const leaked of [SECRET_A, SECRET_B, hashB, 'not-ever-written-to-a-log']) expect(service.stdout() + service.stderr()).not.toContain(leaked);
  });

  it('starts on a bad file with the database as it is, naming the file and the problem; the fixed file applies when it changes', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'clients.json');
    const declared = (secretFile: string) => JSON.stringify({ clients: [{ id: 'worker', type: 'confidential', grantTypes: ['client_credentials'], scopes: [], secrets: [{ id: 'w', secretFile }] }] });
    writeFileSync(file, declared('missing'));
    const service = await startServiceProcess({ DATA_DIR: dir, CLIENTS_FILE: file, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    try {
      const [refusal] = events(service, 'clients.apply_failed');
      expect(refusal).toMatchObject({ file, trigger: 'start' });
      expect(refusal!.reason).toMatch(/clients\.json: clients\[0\]\.secrets\[0\]\.secretFile: ".*missing" cannot be read \(no such file\)/);
      expect(await clientCredentials(service, SECRET_A)).toBe(401);

      writeFileSync(path.join(dir, 'worker-a'), `${SECRET_A}\n`);
      writeFileSync(file, declared('worker-a'));
      await until(() => events(service, 'clients.applied').length > 0, 15_000, { what: 'the apply of the fixed file' });
      expect(await clientCredentials(service, SECRET_A)).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited();
    }
  });
});
