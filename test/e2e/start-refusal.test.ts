import { createServer, type Server, type Socket } from 'node:net';
import { createTestDatabase, missingBackend, postgresUrl, redisUrl, tempDir } from '../support/env';
import { CLI, startServiceProcess } from '../support/process';
import { spawn } from 'node:child_process';
import { generateJwk } from '../../src/tokens/generate';

jest.setTimeout(120_000);

/** Runs `portcullis serve` expecting it to refuse: its exit code, output and how long it took. */
function refusedStart(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], { env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve neither started nor refused in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The fatal line the service logs when it refuses to start. */
function fatalLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.level === 'fatal');
}

const production = (): Record<string, string> => ({
  NODE_ENV: 'production',
  ISSUER: 'https://auth.example.com',
  SIGNING_KEYS: JSON.stringify({ keys: [generateJwk('ES256', 'k1', 'active')] }),
  REDIS_URL: redisUrl() ?? 'redis://127.0.0.1:1',
  DATA_DIR: tempDir(),
});

describe('start refuses a database it cannot use', () => {
  it('an unreachable DATABASE_URL: one line with host and port, never the password, and exit 1', async () => {
    // A port nothing listens on: the connection is refused at once.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const result = await refusedStart({ ...production(), DATABASE_URL: `postgres://portcullis:hunter2-secret@127.0.0.1:${closed}/auth` });
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2-secret');
    expect(result.stderr).toBe('');
    expect(fatalLines(result.stdout)).toEqual([
      expect.objectContaining({ event: 'database.unreachable', host: '127.0.0.1', port: closed, database: 'auth', msg: expect.stringMatching(new RegExp(`^cannot reach PostgreSQL at 127.0.0.1:${closed} \\(database auth\\): .*ECONNREFUSED`)) }),
    ]);
    expect(result.stdout).not.toContain('server.started');
  });

  it('a database that never answers is refused after DATABASE_CONNECT_TIMEOUT, not waited on', async () => {
    // Accepts the connection and says nothing, like a firewall that swallows packets past the handshake.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const result = await refusedStart({ ...production(), DATABASE_URL: `postgres://portcullis:pw@127.0.0.1:${port}/auth`, DATABASE_CONNECT_TIMEOUT: '1s' });
      expect(result.code).toBe(1);
      expect(result.ms).toBeLessThan(15_000);
      expect(fatalLines(result.stdout)).toEqual([expect.objectContaining({ event: 'database.unreachable', host: '127.0.0.1', port, msg: expect.stringContaining(`cannot reach PostgreSQL at 127.0.0.1:${port}`) })]);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('an AUDIT_LOG_FILE that cannot be opened: one fatal line naming it, and exit 1', async () => {
    const file = `${tempDir()}/missing/audit.jsonl`;
    const result = await refusedStart({ DATA_DIR: tempDir(), AUDIT_LOG_FILE: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(fatalLines(result.stdout)).toEqual([expect.objectContaining({ event: 'audit.file_unavailable', file, reason: 'ENOENT', msg: expect.stringContaining('(its directory must exist)') })]);
  });

  if (!postgresUrl() || !redisUrl()) {
    missingBackend('real Redis and PostgreSQL');
    return;
  }

  it('a role the server does not know: the reason never names the user', async () => {
    const url = new URL(postgresUrl()!);
    url.username = 'no-such-role-7f3a';
    url.password = 'pw-never-shown';
    const result = await refusedStart({ ...production(), DATABASE_URL: url.href });
    expect(result.code).toBe(1);
    const [fatal] = fatalLines(result.stdout);
    expect(fatal).toMatchObject({ event: 'database.unreachable' });
    expect(result.stdout).not.toContain('no-such-role-7f3a');
    expect(result.stdout).not.toContain('pw-never-shown');
  });

  it('a fresh database in production: refused, naming portcullis migrate; MIGRATE_ON_START=true applies them and starts', async () => {
    const database = await createTestDatabase('postgres', { migrate: false });
    try {
      const env = { ...production(), DATABASE_URL: database.url!, REDIS_KEY_PREFIX: 'refusal:' };
      const result = await refusedStart(env);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('');
      const [fatal, ...more] = fatalLines(result.stdout);
      expect(more).toEqual([]);
      expect(fatal).toMatchObject({ event: 'database.migrations_pending', pending: expect.arrayContaining(['0001-identity']) });
      expect(fatal!.msg).toMatch(/pending migration\(s\) .*: run `portcullis migrate` first \(or set MIGRATE_ON_START=true\)/);
      expect(result.stdout).not.toContain('server.started');

      const service = await startServiceProcess({ ...env, MIGRATE_ON_START: 'true' });
      try {
        expect(service.stdout()).toContain('"event":"database.migrated"');
        const ready = await fetch(`${service.url}/readyz`);
        expect(ready.status).toBe(200);
        // The schema is there: a request that reads clients answers as OAuth says, not 500.
        const token = await fetch(`${service.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=nobody' });
        expect(token.status).toBe(401);
      } finally {
        service.child.kill('SIGTERM');
        await service.exited();
      }
    } finally {
      await database.drop();
    }
  });
});
