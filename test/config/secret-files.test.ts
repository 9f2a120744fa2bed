import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../src/config/config';
import { SECRET_SETTINGS } from '../../src/config/secret-files';
import { startRedis } from '../support/backends';
import { createTestDatabase, missingBackend, postgresUrl, redisUrl, tempDir } from '../support/env';
import { runCli, startServiceProcess } from '../support/process';

// Issue 15, "every secret from a file": NAME_FILE, the Docker/Kubernetes secrets convention.

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const dir = tempDir();
let count = 0;
/** A mounted secret: a file holding exactly `content`. */
function secretFile(content: string): string {
  const file = path.join(dir, `secret-${++count}`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

describe('secrets from files (NAME_FILE)', () => {
  it('is accepted for every setting that carries a secret', () => {
    expect(SECRET_SETTINGS).toEqual(['DATABASE_URL', 'REDIS_URL', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD']);
    const config = loadConfig({
      DATABASE_URL_FILE: secretFile('postgres://app:db-secret@db:5432/portcullis\n'),
      REDIS_URL_FILE: secretFile('redis://cache:6379\n'),
      REDIS_PASSWORD_FILE: secretFile('redis-secret\n'),
    });
    expect(config.databaseUrl).toBe('postgres://app:db-secret@db:5432/portcullis');
    expect(config.redis).toMatchObject({ mode: 'standalone', url: 'redis://cache:6379', password: 'redis-secret' });

    const sentinel = loadConfig({
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: '127.0.0.1:26379',
      REDIS_SENTINEL_NAME: 'pc',
      REDIS_SENTINEL_PASSWORD_FILE: secretFile('sentinel-secret'),
    });
    expect(sentinel.redis).toMatchObject({ mode: 'sentinel', sentinelPassword: 'sentinel-secret' });
  });

  it('drops exactly one trailing line break, "\\n" or "\\r\\n", and nothing else: a password may end in spaces', () => {
    const password = (content: string): string | undefined => loadConfig({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD_FILE: secretFile(content) }).redis?.password;
    expect(password('pw')).toBe('pw');
    expect(password('pw\n')).toBe('pw');
    expect(password('pw\r\n')).toBe('pw');
    expect(password('pw  \n')).toBe('pw  ');
    expect(password(' pw\t')).toBe(' pw\t');
    expect(password('pw\n\n')).toBe('pw\n');
  });

  it('refuses NAME and NAME_FILE both set, naming both', () => {
    const file = secretFile('postgres://db/x');
    expect(problemsOf({ DATABASE_URL: 'postgres://db/y', DATABASE_URL_FILE: file })).toEqual(['DATABASE_URL and DATABASE_URL_FILE: set one, not both']);
    expect(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: secretFile('b') })).toEqual(['REDIS_PASSWORD and REDIS_PASSWORD_FILE: set one, not both']);
  });

  it('treats an empty NAME beside NAME_FILE as unset, as every empty setting is', () => {
    expect(loadConfig({ DATABASE_URL: '', DATABASE_URL_FILE: secretFile('postgres://db/x') }).databaseUrl).toBe('postgres://db/x');
  });

  it('refuses a file it cannot read, naming the variable and the path', () => {
    const missing = path.join(dir, 'no-such-secret');
    expect(problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD_FILE: missing })).toEqual([`REDIS_PASSWORD_FILE: "${missing}" cannot be read (no such file)`]);
    const directory = path.join(dir, 'a-directory');
    mkdirSync(directory);
    expect(problemsOf({ DATABASE_URL_FILE: directory })).toEqual([`DATABASE_URL_FILE: "${directory}" is not a regular file`]);
    const empty = secretFile('\n');
    expect(problemsOf({ DATABASE_URL_FILE: empty })).toEqual([`DATABASE_URL_FILE: "${empty}" is empty`]);
  });

  it('refuses a named pipe at once instead of waiting for a writer (which would freeze the process)', () => {
    const fifo = path.join(dir, 'a-fifo');
    execFileSync('mkfifo', [fifo]);
    expect(problemsOf({ DATABASE_URL_FILE: fifo })).toEqual([`DATABASE_URL_FILE: "${fifo}" is not a regular file`]);
  });

  it('reports file problems with every other problem, in one pass', () => {
    const problems = problemsOf({ PORT: 'eighty', REDIS_URL_FILE: path.join(dir, 'gone') });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^REDIS_URL_FILE: /);
    expect(problems[1]).toMatch(/^PORT: /);
  });

  it('never echoes a file’s content in an error, and says which file the bad value came from', () => {
    const secret = 'hunter2-do-not-print';
    const problems = [
      ...problemsOf({ DATABASE_URL_FILE: secretFile(`mysql://app:${secret}@db/portcullis\n`) }),
      ...problemsOf({ DATABASE_URL_FILE: secretFile(`not a url ${secret}`) }),
      ...problemsOf({ REDIS_URL_FILE: secretFile(`http://default:${secret}@cache:6379`) }),
      ...problemsOf({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD_FILE: secretFile(secret), REDIS_SENTINEL_PASSWORD_FILE: secretFile(secret) }),
    ];
    expect(problems).toEqual([
      'DATABASE_URL (from DATABASE_URL_FILE): must use postgres: or postgresql:',
      'DATABASE_URL (from DATABASE_URL_FILE): must be a URL',
      'REDIS_URL (from REDIS_URL_FILE): must use redis: or rediss:',
      'REDIS_SENTINEL_PASSWORD: only read when REDIS_MODE=sentinel',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('satisfies the production guard', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL_FILE: secretFile('postgres://u@db/portcullis\n'),
      REDIS_URL_FILE: secretFile('rediss://cache:6379\n'),
      SIGNING_KEYS_FILE: '/run/secrets/jwks.json',
      ISSUER: 'https://auth.example.com',
    });
    expect(config.databaseUrl).toBe('postgres://u@db/portcullis');
  });

  it('stops the service with both set, naming both and printing no secret', async () => {
    const result = await runCli(['serve'], { DATA_DIR: tempDir(), DATABASE_URL: 'postgres://u:inline-secret@db/x', DATABASE_URL_FILE: secretFile('postgres://u:file-secret@db/x') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL and DATABASE_URL_FILE: set one, not both');
    expect(result.stderr + result.stdout).not.toMatch(/inline-secret|file-secret/);
  });
});

if (!redisUrl() || !postgresUrl()) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe('the service on secrets from files, against real backends', () => {
    jest.setTimeout(90_000);

    it('starts with DATABASE_URL_FILE and REDIS_URL_FILE, and with a Redis password ending in spaces from REDIS_PASSWORD_FILE', async () => {
      const database = await createTestDatabase('postgres', { migrate: false });
      await database.db.destroy();
      // A Redis of its own: this one requires a password, which the shared one does not.
      const redis = await startRedis();
      const password = 'ends in spaces  ';
      const admin = new Redis(redis.url);
      await admin.config('SET', 'requirepass', password);
      await admin.quit();
      try {
        const env = { DATA_DIR: tempDir(), REDIS_KEY_PREFIX: 'secret-files:', DATABASE_URL_FILE: secretFile(`${database.url!}\n`) };

        const shared = await startServiceProcess({ ...env, REDIS_URL_FILE: secretFile(`${redisUrl()!}\n`) });
        const ready = (await (await fetch(`${shared.url}/readyz`)).json()) as { checks: unknown };
        expect(ready.checks).toEqual({ database: { status: 'up', backend: 'postgres' }, store: { status: 'up', backend: 'redis' } });
        shared.child.kill('SIGTERM');
        await expect(shared.exited()).resolves.toEqual({ code: 0, signal: null });

        const guarded = await startServiceProcess({ ...env, REDIS_URL_FILE: secretFile(`${redis.url}\r\n`), REDIS_PASSWORD_FILE: secretFile(`${password}\n`) });
        const guardedReady = await fetch(`${guarded.url}/readyz`);
        expect(guardedReady.status).toBe(200);
        expect(((await guardedReady.json()) as { checks: { store: unknown } }).checks.store).toEqual({ status: 'up', backend: 'redis' });
        guarded.child.kill('SIGTERM');
        await expect(guarded.exited()).resolves.toEqual({ code: 0, signal: null });
        expect(guarded.stdout() + guarded.stderr()).not.toContain(password.trim());
      } finally {
        await redis.destroy();
        await database.drop();
      }
    });
  });
}
