import { createTestDatabase, databaseKinds, missingBackend, postgresUrl, tempDir } from '../support/env';
import { runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

// Each test here starts the compiled CLI (a node process loading PGlite or connecting to
// PostgreSQL); on a loaded two-core machine that takes seconds.
jest.setTimeout(120_000);

const DAY_MS = 86400_000;

interface SecretJson {
  id: string;
  createdAt: string;
  notAfter: string | null;
  lastUsedAt: string | null;
}

// Issue 15, as an operator rotates a client's secret: the compiled CLI on a real database.
describe.each(databaseKinds())('portcullis client secrets on %s', (dbKind) => {
  let env: Record<string, string>;
  let drop: () => Promise<void> = async () => undefined;
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });
  const show = async (id: string): Promise<{ secrets: SecretJson[] }> => JSON.parse((await cli(['client', 'show', id, '--json'])).stdout) as { secrets: SecretJson[] };
  let first: string;

  beforeAll(async () => {
    env = { DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' };
    if (dbKind === 'postgres') {
      const database = await createTestDatabase('postgres', { migrate: false });
      env.DATABASE_URL = database.url!;
      drop = database.drop;
    }
    const created = await cli(['client', 'create', '--id', 'svc', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read', '--json']);
    expect(created.code).toBe(0);
    first = (JSON.parse(created.stdout) as { secrets: SecretJson[] }).secrets[0]!.id;
  });
  afterAll(async () => drop());

  it('client show --json lists the secrets: id, createdAt, notAfter, lastUsedAt, never a hash', async () => {
    const shown = await cli(['client', 'show', 'svc', '--json']);
    expect(shown.code).toBe(0);
    const client = JSON.parse(shown.stdout) as { id: string; secrets: SecretJson[] };
    expect(client.id).toBe('svc');
    expect(client.secrets).toEqual([{ id: first, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), notAfter: null, lastUsedAt: null }]);
    expect(shown.stdout).not.toMatch(/hmac|hash/i);
    const missing = await cli(['client', 'show', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such client: nobody/);
  });

  it('rotate-secret --json prints exactly the new secret, its id and when the old one ends (CLIENT_SECRET_OVERLAP, 7 days)', async () => {
    const before = Date.now();
    const rotated = await cli(['client', 'rotate-secret', 'svc', '--json']);
    expect(rotated.code).toBe(0);
    const body = JSON.parse(rotated.stdout) as { clientId: string; secretId: string; secret: string; oldSecretExpiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['clientId', 'oldSecretExpiresAt', 'secret', 'secretId']);
    expect(body).toMatchObject({ clientId: 'svc', secretId: expect.stringMatching(/^cs_[A-Za-z0-9_-]{12}$/), secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const ends = Date.parse(body.oldSecretExpiresAt);
    expect(ends).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
    expect(ends).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS + 1000);
    expect((await show('svc')).secrets).toEqual([
      expect.objectContaining({ id: first, notAfter: body.oldSecretExpiresAt }),
      expect.objectContaining({ id: body.secretId, notAfter: null }),
    ]);
  });

  it('refuses a third active secret, telling the operator to remove one', async () => {
    const refused = await cli(['client', 'rotate-secret', 'svc']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already has 2 active secrets .*remove one first/);
    expect((await show('svc')).secrets).toHaveLength(2);
  });

  it('client list shows each client\'s secrets, in JSON and as lines under the client', async () => {
    const listed = await cli(['client', 'list', '--json']);
    const svc = (JSON.parse(listed.stdout) as Array<{ id: string; secrets: SecretJson[] }>).find((client) => client.id === 'svc')!;
    expect(svc.secrets.map((secret) => Object.keys(secret).sort())).toEqual([
      ['createdAt', 'id', 'lastUsedAt', 'notAfter'],
      ['createdAt', 'id', 'lastUsedAt', 'notAfter'],
    ]);
    const lines = (await cli(['client', 'list'])).stdout;
    expect(lines).toMatch(new RegExp(`^svc\\tconfidential\\t.*\\n  secret ${first}\\tcreated=\\S+\\tnot_after=\\S+Z\\tlast_used=never\\n  secret cs_\\S+\\tcreated=\\S+\\tnot_after=never\\tlast_used=never$`, 'm'));
    expect((await cli(['client', 'show', 'svc'])).stdout).toMatch(new RegExp(`^  secret ${first}\\t`, 'm'));
  });

  it('remove-secret ends one now; never an unknown one, nor the last one that works', async () => {
    const unknown = await cli(['client', 'remove-secret', 'svc', 'cs_nosuchsecret']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/client svc has no secret cs_nosuchsecret/);
    const removed = await cli(['client', 'remove-secret', 'svc', first, '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ clientId: 'svc', secretId: first, removed: true });
    const [only] = (await show('svc')).secrets;
    const last = await cli(['client', 'remove-secret', 'svc', only!.id]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/only working secret .*rotate first/);
  });

  it('--keep-old-for sets the overlap (0: the old one ends now); CLIENT_SECRET_OVERLAP the default', async () => {
    const now = await cli(['client', 'rotate-secret', 'svc', '--keep-old-for', '0', '--json']);
    expect(now.code).toBe(0);
    expect(Math.abs(Date.parse((JSON.parse(now.stdout) as { oldSecretExpiresAt: string }).oldSecretExpiresAt) - Date.now())).toBeLessThan(30_000);
    const hour = await cli(['client', 'rotate-secret', 'svc', '--json'], { CLIENT_SECRET_OVERLAP: '1h' });
    expect(hour.code).toBe(0);
    expect(Math.abs(Date.parse((JSON.parse(hour.stdout) as { oldSecretExpiresAt: string }).oldSecretExpiresAt) - Date.now() - 3600_000)).toBeLessThan(30_000);
    const human = await cli(['client', 'rotate-secret', 'svc', '--keep-old-for', '0']);
    expect(human.stdout).toMatch(/^client_secret: [A-Za-z0-9_-]{43}\n\(shown once: store it now\)\nsecret id: cs_\S+\nthe previous secret works until \S+Z \(on instances that cached it, up to CLIENT_CACHE_TTL longer\)\n$/);
  });

  it.each([
    [['client', 'rotate-secret', 'svc', '--keep-old-for', 'soon'], /--keep-old-for: not a duration/],
    [['client', 'rotate-secret', 'svc', '--keep-old-for', '367d'], /--keep-old-for: at most 366d/],
    [['client', 'rotate-secret', 'nobody'], /no such client: nobody/],
    [['client', 'remove-secret', 'nobody', 'cs_nosuchsecret'], /no such client: nobody/],
  ])('%p fails clearly with exit 1', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});

// A running service and the CLI on another machine, sharing PostgreSQL: the service hears of
// nothing, yet a rotated-in secret works at once and a removed one stops within CLIENT_CACHE_TTL.
if (!postgresUrl()) {
  missingBackend('PostgreSQL (a service and the CLI share it)');
} else describe('portcullis client rotate-secret against a running service', () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let service: ServiceProcess;
  const cli = (args: string[]) => runCli(args, env);
  const token = async (secret: string) =>
    (await fetch(`${service.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`svc:${secret}`).toString('base64')}` }, body: 'grant_type=client_credentials' })).status;

  beforeAll(async () => {
    const database = await createTestDatabase('postgres');
    drop = database.drop;
    env = { DATABASE_URL: database.url!, DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' };
    await cli(['client', 'create', '--id', 'svc', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read', '--secret', 'the-old-secret-of-svc-0123456789-0123456789']);
    service = await startServiceProcess(env);
  });
  afterAll(async () => {
    if (service.child.exitCode === null) service.child.kill('SIGTERM');
    await service.exited();
    await drop();
  });

  it('rotates in at once, removes within CLIENT_CACHE_TTL, and writes last uses on shutdown', async () => {
    expect(await token('the-old-secret-of-svc-0123456789-0123456789')).toBe(200);
    const rotated = JSON.parse((await cli(['client', 'rotate-secret', 'svc', '--json'])).stdout) as { secretId: string; secret: string };
    expect(await token(rotated.secret)).toBe(200);
    expect(await token('the-old-secret-of-svc-0123456789-0123456789')).toBe(200);

    const old = (JSON.parse((await cli(['client', 'show', 'svc', '--json'])).stdout) as { secrets: SecretJson[] }).secrets.find((secret) => secret.id !== rotated.secretId)!;
    const removedAt = Date.now();
    expect((await cli(['client', 'remove-secret', 'svc', old.id])).code).toBe(0);
    await until(async () => (await token('the-old-secret-of-svc-0123456789-0123456789')) === 401, 12_000, { what: 'the removed secret refused', intervalMs: 250 });
    expect(Date.now() - removedAt).toBeLessThanOrEqual(10_000 + 1000);
    expect(await token(rotated.secret)).toBe(200);

    // Last uses are written from memory once a minute, and when the service stops.
    service.child.kill('SIGTERM');
    expect((await service.exited()).code).toBe(0);
    const [secret] = (JSON.parse((await cli(['client', 'show', 'svc', '--json'])).stdout) as { secrets: SecretJson[] }).secrets;
    expect(secret).toMatchObject({ id: rotated.secretId, lastUsedAt: expect.stringMatching(/^\d{4}-/) });
    expect(Date.parse(secret!.lastUsedAt!)).toBeGreaterThan(removedAt);
  });
});
