import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateJwk } from '../../src/tokens/generate';
import { parseKeySet } from '../../src/tokens/keyring';
import { tempDir } from '../support/env';
import { runCli } from '../support/process';

// `portcullis keys rotate` as a cron job runs it: the compiled CLI, a key file, the environment.

jest.setTimeout(60_000);

type Key = { kid: string; state: string; published_at?: string; retired_at?: string };
const keysIn = (file: string): Key[] => (JSON.parse(readFileSync(file, 'utf8')) as { keys: Key[] }).keys;
const statesIn = (file: string): Record<string, string> => Object.fromEntries(keysIn(file).map((key) => [key.kid, key.state]));
const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();

function keyFile(...keys: object[]): string {
  const file = path.join(tempDir(), 'signing-keys.json');
  writeFileSync(file, `${JSON.stringify({ keys }, null, 2)}\n`);
  chmodSync(file, 0o600);
  return file;
}

// The service's values, as a cron job should be given them (the defaults here).
const SCHEDULE = { ACCESS_TOKEN_TTL: '15m', JWKS_MAX_AGE: '5m' };
const rotate = (args: string[], env: Record<string, string> = {}) => runCli(['keys', 'rotate', ...args], { DATA_DIR: tempDir(), ...SCHEDULE, ...env });

describe('portcullis keys rotate', () => {
  it('runs in production with only the key file and the schedule, and warns when the schedule is left to defaults', async () => {
    const file = keyFile(generateJwk('ES256', 'a'));
    const bare = await runCli(['keys', 'rotate', '--file', file], { NODE_ENV: 'production' });
    expect(bare.code).toBe(0);
    expect(bare.stderr).toMatch(/^warning: ACCESS_TOKEN_TTL and JWKS_MAX_AGE not set here: the defaults are used/);
    expect(keysIn(file).map((key) => key.state)).toEqual(['active', 'next']);
    const bad = await runCli(['keys', 'rotate', '--file', file], { NODE_ENV: 'production', ACCESS_TOKEN_TTL: '1h', JWKS_MAX_AGE: 'soon' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/JWKS_MAX_AGE: must be a duration/);
  });

  it('adds a next key to a set without one, printing one line per change, and keeps the file 0600', async () => {
    const file = keyFile(generateJwk('ES256', 'a'));
    const result = await rotate(['--file', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const added = keysIn(file)[1]!;
    expect(result.stdout).toBe(`added ${added.kid} (ES256) as next: published, not signing yet\n`);
    expect(statesIn(file)).toEqual({ a: 'active', [added.kid]: 'next' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['signing-keys.json']);
  });

  it('promotes next, retires active, adds a new next and drops retired keys past ACCESS_TOKEN_TTL + JWKS_MAX_AGE, read from the environment', async () => {
    const file = keyFile(
      { ...generateJwk('ES256', 'old'), state: 'retired', retired_at: ago(100) },
      { ...generateJwk('ES256', 'a'), state: 'active' },
      { ...generateJwk('EdDSA', 'b'), state: 'next', published_at: ago(100) },
    );
    const env = { ACCESS_TOKEN_TTL: '60s', JWKS_MAX_AGE: '30s' };
    const result = await rotate(['--file', file, '--json'], env);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { dryRun: boolean; changes: Array<{ action: string; kid: string }> };
    expect(output.dryRun).toBe(false);
    expect(output.changes.map(({ action, kid }) => `${action} ${kid}`)).toEqual(['promoted b', 'retired a', expect.stringMatching(/^added /), 'removed old']);
    const states = statesIn(file);
    expect(Object.values(states)).toEqual(['retired', 'active', 'next']);
    expect(states).toMatchObject({ a: 'retired', b: 'active' });
    // With the default lifetimes (15m + 5m) the same set would keep `old`: it may still verify a token.
    const again = keyFile(
      { ...generateJwk('ES256', 'old'), state: 'retired', retired_at: ago(100) },
      { ...generateJwk('ES256', 'a'), state: 'active' },
      { ...generateJwk('EdDSA', 'b'), state: 'next', published_at: ago(400) },
    );
    expect((await rotate(['--file', again])).code).toBe(0);
    expect(statesIn(again)).toMatchObject({ old: 'retired', a: 'retired', b: 'active' });
  });

  it('takes the file from SIGNING_KEYS_FILE when --file is not given, and refuses to guess without either', async () => {
    const file = keyFile(generateJwk('ES256', 'a'));
    expect((await rotate([], { SIGNING_KEYS_FILE: file })).code).toBe(0);
    expect(keysIn(file)).toHaveLength(2);
    const none = await rotate([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/name the key set to rotate: --file PATH, or SIGNING_KEYS_FILE/);
  });

  it('--dry-run prints the kids and states before and after and writes nothing', async () => {
    const file = keyFile({ ...generateJwk('ES256', 'a'), state: 'active' }, { ...generateJwk('ES256', 'b'), state: 'next', published_at: ago(3600) });
    const before = readFileSync(file);
    const { ino, mtimeMs } = statSync(file);
    const result = await rotate(['--file', file, '--dry-run']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`dry run: nothing written to ${file}`);
    expect(lines[1]).toBe('before: a active, b next');
    expect(lines[2]).toMatch(/^after: {2}a retired, b active, \S+ next$/);
    expect(lines.slice(3)).toEqual([
      'promoted b: next -> active, signs new tokens',
      'retired a: active -> retired, verifies the tokens it signed until they expire',
      expect.stringMatching(/^added \S+ \(ES256\) as next: published, not signing yet$/),
    ]);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file)).toMatchObject({ ino, mtimeMs });
    expect(readdirSync(path.dirname(file))).toEqual(['signing-keys.json']);
  });

  it.each([
    ['a file that is not JSON', '{"keys": [{"kid": "a"', /invalid signing key set: not JSON; nothing written/],
    ['a set without an active key', JSON.stringify({ keys: [{ ...generateJwk('ES256', 'a'), state: 'next' }, { ...generateJwk('ES256', 'b'), state: 'retired' }] }), /exactly one key must be active \(found 0\); nothing written/],
  ])('refuses %s, exits non-zero and leaves the file untouched', async (_, content, message) => {
    const file = path.join(tempDir(), 'signing-keys.json');
    writeFileSync(file, content, { mode: 0o600 });
    const result = await rotate(['--file', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(readdirSync(path.dirname(file))).toEqual(['signing-keys.json']);
  });

  it('refuses to promote a next key published less than JWKS_MAX_AGE ago', async () => {
    const file = keyFile(generateJwk('ES256', 'a'));
    expect((await rotate(['--file', file])).code).toBe(0);
    const content = readFileSync(file, 'utf8');
    const early = await rotate(['--file', file]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/less than JWKS_MAX_AGE \(300s\) ago: resource services may not hold it yet; rotate again from .*; nothing written/);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('lets concurrent runs make exactly one rotation and never corrupts the file', async () => {
    const file = keyFile({ ...generateJwk('ES256', 'a'), state: 'active' }, { ...generateJwk('ES256', 'b'), state: 'next', published_at: ago(3600) });
    const results = await Promise.all(Array.from({ length: 4 }, () => rotate(['--file', file])));
    // The first to take the file promotes b; each other one either finds the file taken or, after
    // it, a next key published a moment ago.
    expect(results.filter((result) => result.code === 0)).toHaveLength(1);
    for (const result of results.filter((each) => each.code !== 0)) {
      expect(result.stderr).toMatch(/\.pending exists: another rewrite|less than JWKS_MAX_AGE/);
    }
    const states = Object.values(statesIn(file));
    expect(states).toEqual(['retired', 'active', 'next']);
    expect(parseKeySet(readFileSync(file, 'utf8')).active.kid).toBe('b');
    expect(readdirSync(path.dirname(file))).toEqual(['signing-keys.json']);
  });

  it('refuses an unknown --alg', async () => {
    const result = await rotate(['--file', keyFile(generateJwk('ES256', 'a')), '--alg', 'HS256']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--alg must be one of ES256, EdDSA, RS256/);
  });
});
