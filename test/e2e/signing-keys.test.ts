import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_API_SECRET } from '../../src/identity/demo-data';
import { tempDir } from '../support/env';
import { runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

const kids = async (service: ServiceProcess): Promise<string[]> =>
  ((await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);

async function issuedKid(service: ServiceProcess): Promise<string> {
  const res = await fetch(`${service.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`demo-api:${DEMO_API_SECRET}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  const { access_token: token } = (await res.json()) as { access_token: string };
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
}

async function generate(args: string[]): Promise<object> {
  const result = await runCli(['keys', 'generate', ...args], {});
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { keys: object[] }).keys[0]!;
}

// Each test here starts several node processes (the CLI or the service, each loading PGlite or
// connecting to the backends): on a loaded two-core machine one test can take over the
// default 30 s, so these get more room.
jest.setTimeout(120_000);

describe('signing keys in a running service', () => {
  it('reloads on SIGHUP, refusing a bad file and keeping the old set', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'jwks.json');
    const keyA = await generate(['--kid', 'a', '--state', 'active']);
    writeFileSync(file, JSON.stringify({ keys: [keyA] }));
    const service = await startServiceProcess({ DATA_DIR: dir, SIGNING_KEYS_FILE: file, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    try {
      expect(await kids(service)).toEqual(['a']);

      writeFileSync(file, '{"keys": [{"kid": "broken"');
      service.child.kill('SIGHUP');
      await until(() => service.stdout().includes('"event":"keys.reload_failed"'));
      expect(await kids(service)).toEqual(['a']);
      expect(await issuedKid(service)).toBe('a');

      const keyB = await generate(['--alg', 'EdDSA', '--kid', 'b', '--state', 'active']);
      writeFileSync(file, JSON.stringify({ keys: [{ ...keyA, state: 'retired' }, keyB] }));
      service.child.kill('SIGHUP');
      await until(async () => (await kids(service)).length === 2);
      expect(await kids(service)).toEqual(['a', 'b']);
      expect(await issuedKid(service)).toBe('b');

      // A change of the file alone is noticed too (polled every second).
      const keyC = await generate(['--alg', 'RS256', '--kid', 'c', '--state', 'active']);
      writeFileSync(file, JSON.stringify({ keys: [{ ...keyB, state: 'retired' }, keyC] }));
      await until(async () => (await kids(service)).includes('c'));
      expect(await issuedKid(service)).toBe('c');
      // On the audit trail, the service acted on the file's change.
      const reloads = service.stdout().split('\n').filter((line) => line.includes('"event":"keys.reloaded"')).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(reloads.at(-1)).toMatchObject({ audit: true, actor: 'service:keys_file', trigger: 'keys_file', active: 'c' });
      expect(reloads[0]).toMatchObject({ actor: 'service:sighup', trigger: 'sighup' });
    } finally {
      service.child.kill('SIGTERM');
      await service.exited();
    }
  });

  it('generates a development key once under DATA_DIR with mode 0600 and keeps it across restarts', async () => {
    const dir = tempDir();
    const first = await startServiceProcess({ DATA_DIR: dir, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
    const firstKids = await kids(first);
    expect(first.stdout()).toContain('"event":"keys.generated"');
    first.child.kill('SIGTERM');
    await first.exited();
    expect(statSync(path.join(dir, 'signing-keys.json')).mode & 0o777).toBe(0o600);

    const second = await startServiceProcess({ DATA_DIR: dir });
    try {
      expect(await kids(second)).toEqual(firstKids);
      expect(second.stdout()).not.toContain('"event":"keys.generated"');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited();
    }
  });
});

describe('portcullis keys', () => {
  it.each(['ES256', 'EdDSA', 'RS256'])('generate --alg %s prints a private JWK Set the service accepts', async (alg) => {
    const key = await generate(['--alg', alg, '--kid', 'k', '--state', 'next']);
    expect(key).toMatchObject({ kid: 'k', alg, state: 'next', d: expect.any(String) });
    const pub = await runCli(['keys', 'public'], { SIGNING_KEYS: JSON.stringify({ keys: [{ ...key, state: 'active' }] }) });
    expect(pub.code).toBe(0);
    const published = JSON.parse(pub.stdout) as { keys: Array<Record<string, unknown>> };
    expect(published.keys).toHaveLength(1);
    expect(published.keys[0]).toMatchObject({ kid: 'k', alg, use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'state']) expect(published.keys[0]).not.toHaveProperty(member);
  });

  it('refuses an unknown algorithm and an invalid configured set', async () => {
    const bad = await runCli(['keys', 'generate', '--alg', 'none'], {});
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--alg must be one of ES256, EdDSA, RS256/);
    const invalid = await runCli(['keys', 'public'], { SIGNING_KEYS: '{"keys": []}' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/invalid signing key set/);
  });

  it('refuses to start the service on an invalid key set', async () => {
    const result = await runCli(['serve'], { DATA_DIR: tempDir(), SIGNING_KEYS: '{"keys": [{"kid": "x", "kty": "oct", "k": "c2hvcnQ"}]}' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HS256 keys are refused unless ALLOW_HS256=true/);
  });
});
