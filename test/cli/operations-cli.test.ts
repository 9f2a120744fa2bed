import { writeFileSync } from 'node:fs';
import { userKeys } from '../../src/store/redis/keys';
import { createTestDatabase, databaseKinds, rawRedis, redisUrl, tempDir, uniqueName } from '../support/env';
import { runCli } from '../support/process';

// Each test starts node processes that load PGlite or connect to PostgreSQL: room for a busy machine.
jest.setTimeout(120_000);

/** The one JSON error object the CLI writes to stderr under --json. */
function jsonError(stderr: string): { error: string; error_description: string } {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as { error: string; error_description: string };
}

// What an operator's script relies on: exit codes, --json everywhere, and no data deleted without --yes.
describe.each(databaseKinds())('portcullis CLI operations on %s', (dbKind) => {
  let env: Record<string, string>;
  let drop: () => Promise<void> = async () => undefined;
  const prefix = `${uniqueName('ops')}:`;
  const cli = (args: string[], input?: string) => runCli(args, env, input);

  beforeAll(async () => {
    // Migrations only by `portcullis migrate`, as in production.
    env = { DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', REDIS_KEY_PREFIX: prefix, MIGRATE_ON_START: 'false' };
    if (dbKind === 'postgres') {
      const database = await createTestDatabase('postgres', { migrate: false });
      env.DATABASE_URL = database.url!;
      drop = database.drop;
    }
    if (redisUrl()) env.REDIS_URL = redisUrl()!;
  });
  afterAll(async () => drop());

  it('a command on an unmigrated database is refused, naming portcullis migrate', async () => {
    const result = await cli(['user', 'list', '--json']);
    expect(result.code).toBe(1);
    const error = jsonError(result.stderr);
    expect(error.error).toBe('migrations_pending');
    expect(error.error_description).toMatch(/pending migration.*run `portcullis migrate`/);
    expect(result.stdout).toBe('');
  });

  it('migrate --status exits 3 while migrations are pending, 0 once applied', async () => {
    const pending = await cli(['migrate', '--status', '--json']);
    expect(pending.code).toBe(3);
    expect(JSON.parse(pending.stdout)).toMatchObject({ applied: [], pending: expect.arrayContaining(['0001-identity']) });
    expect((await cli(['migrate'])).code).toBe(0);
    const done = await cli(['migrate', '--status']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^pending: \(none\)$/m);
  });

  it('migrate --down-all without --yes is refused and changes nothing', async () => {
    const text = await cli(['migrate', '--down-all']);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/migrate --down-all .*: add --yes to confirm/);
    const json = await cli(['migrate', '--down-all', '--json']);
    expect(json.code).toBe(1);
    expect(jsonError(json.stderr).error).toBe('confirmation_required');
    expect((await cli(['migrate', '--status'])).code).toBe(0); // still fully migrated
  });

  it('user delete needs --yes, then deletes the user and ends their access', async () => {
    const created = await cli(['user', 'create', '--username', 'doomed', '--password-stdin', '--json'], 'doomed-password\n');
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };

    const refused = await cli(['user', 'delete', 'doomed', '--json']);
    expect(refused.code).toBe(1);
    expect(jsonError(refused.stderr)).toEqual({ error: 'confirmation_required', error_description: expect.stringContaining('--yes') });
    expect((await cli(['user', 'list', '--prefix', 'doomed'])).stdout).toMatch(/^doomed\t/m);

    const deleted = await cli(['user', 'delete', 'doomed', '--yes', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ id, username: 'doomed', deleted: true });
    expect((await cli(['user', 'list', '--prefix', 'doomed'])).stdout.trim()).toBe('(no users)');
    if (redisUrl()) {
      const redis = rawRedis();
      try {
        // The revocation epoch introspection and forward-auth read: every token of the user ends.
        expect(Number(await redis.hget(`${prefix}${userKeys(id).epoch}`, 'epoch'))).toBeGreaterThan(Date.now() / 1000 - 60);
      } finally {
        redis.disconnect();
      }
    }
    const again = await cli(['user', 'delete', 'doomed', '--yes', '--json']);
    expect(again.code).toBe(1);
    expect(jsonError(again.stderr)).toEqual({ error: 'unknown_user', error_description: 'no such user: doomed' });
  });

  it('session commands: an unknown user is unknown_user; Redis down is store_unavailable, not an internal error', async () => {
    const created = await cli(['user', 'create', '--username', 'sessioned', '--password-stdin', '--json'], 'sessioned-password\n');
    expect(created.code).toBe(0);
    const withStore = { ...env, REDIS_URL: redisUrl() ?? 'redis://127.0.0.1:1' };
    const unknown = await runCli(['session', 'list', 'nobody-here', '--json'], withStore);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr.trim().split('\n').pop()!)).toEqual({ error: 'unknown_user', error_description: 'no such user: nobody-here' });
    // A port nothing listens on: the store cannot answer. The error is the last line of stderr.
    const down = await runCli(['session', 'list', 'sessioned', '--json'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stderr.trim().split('\n').pop()!)).toEqual({ error: 'store_unavailable', error_description: expect.stringMatching(/^the token store \(Redis\) is unavailable: /) });
  });

  it('client delete needs --yes, then deletes the client and ends its tokens', async () => {
    expect((await cli(['client', 'create', '--id', 'doomed-api', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read'])).code).toBe(0);
    const refused = await cli(['client', 'delete', 'doomed-api']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
    expect((await cli(['client', 'show', 'doomed-api'])).code).toBe(0);

    const deleted = await cli(['client', 'delete', 'doomed-api', '--yes', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: 'doomed-api', deleted: true });
    const gone = await cli(['client', 'show', 'doomed-api', '--json']);
    expect(gone.code).toBe(1);
    expect(jsonError(gone.stderr).error_description).toBe('no such client: doomed-api');
    if (redisUrl()) {
      const redis = rawRedis();
      try {
        expect(await redis.keys(`${prefix}*:ce:doomed-api`)).not.toHaveLength(0);
      } finally {
        redis.disconnect();
      }
    }
    const again = await cli(['client', 'delete', 'doomed-api', '--yes', '--json']);
    expect(jsonError(again.stderr)).toEqual({ error: 'unknown_client', error_description: 'no such client: doomed-api' });
  });

  it('client delete refuses a client a clients file manages, and keeps it', async () => {
    const file = `${tempDir()}/clients.yaml`;
    writeFileSync(file, 'name: ops-test\nclients:\n  - id: filed-spa\n    type: public\n    grantTypes: [refresh_token]\n    scopes: [items:read]\n');
    const applied = await cli(['clients', 'apply', '-f', file]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const refused = await cli(['client', 'delete', 'filed-spa', '--yes', '--json']);
    expect(refused.code).toBe(1);
    expect(jsonError(refused.stderr).error).toBe('managed_client');
    expect((await cli(['client', 'show', 'filed-spa'])).code).toBe(0);
  });
});

describe('portcullis CLI: --json on every command, errors as JSON', () => {
  const env = { DATA_DIR: tempDir() };

  it('keys generate and keys public print one line of JSON with --json', async () => {
    const generated = await runCli(['keys', 'generate', '--kid', 'k1', '--state', 'active', '--json'], env);
    expect(generated.code).toBe(0);
    expect(generated.stdout.trim().split('\n')).toHaveLength(1);
    const set = JSON.parse(generated.stdout) as { keys: Array<{ kid: string; d?: string }> };
    expect(set.keys[0]).toMatchObject({ kid: 'k1', d: expect.any(String) });

    const published = await runCli(['keys', 'public', '--json'], { ...env, SIGNING_KEYS: generated.stdout.trim() });
    expect(published.code).toBe(0);
    expect(published.stdout.trim().split('\n')).toHaveLength(1);
    const jwks = JSON.parse(published.stdout) as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys.map((key) => key.kid)).toEqual(['k1']);
    expect(jwks.keys[0]!.d).toBeUndefined();
  });

  it('a usage error is JSON under --json and commander text without', async () => {
    const json = await runCli(['user', 'create', '--json'], env);
    expect(json.code).toBe(1);
    expect(jsonError(json.stderr)).toEqual({ error: 'usage', error_description: "required option '--username <username>' not specified" });
    const text = await runCli(['user', 'create'], env);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^error: required option '--username <username>' not specified/);
  });

  it('a configuration error is JSON under --json, every problem at once', async () => {
    const result = await runCli(['role', 'list', '--json'], { ...env, PORT: 'eighty', ISSUER: 'https://auth.example.com/?tenant=a' });
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stderr.trim()) as { error: string; problems: string[] };
    expect(error.error).toBe('invalid_config');
    expect(error.problems).toEqual([expect.stringMatching(/^PORT: /), expect.stringMatching(/^ISSUER: must have no query/)]);
  });

  it('--help still exits 0', async () => {
    const help = await runCli(['user', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/delete \[options\] <username>/);
  });
});
