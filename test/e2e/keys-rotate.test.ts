import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_API_SECRET } from '../../src/identity/demo-data';
import { generateJwk } from '../../src/tokens/generate';
import { createVerifier } from '../../src/verifier';
import { tempDir } from '../support/env';
import { runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

// Issue 15's definition of done: `portcullis keys rotate` three times in a row while a resource
// service verifies freshly issued tokens from the JWKS the whole time, with zero failures. Small
// lifetimes keep it short: the waits between rotations are the ones the rules ask for.

const ISSUER = 'https://auth.rotation.test';
const AUDIENCE = 'https://items.test';
/** JWKS_MAX_AGE: a next key must be published this long before it signs. */
const MAX_AGE_SEC = 2;
const ENV = { ACCESS_TOKEN_TTL: '30s', JWKS_MAX_AGE: `${MAX_AGE_SEC}s` };

jest.setTimeout(120_000);

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('keys rotate while a resource service verifies tokens (jwks mode)', () => {
  let service: ServiceProcess;
  let file: string;

  beforeAll(async () => {
    const dir = tempDir();
    file = path.join(dir, 'signing-keys.json');
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    // Besides the active key: one retired long ago (its tokens expired long since) and one
    // retired by hand, with no time written down.
    const keys = [
      { ...generateJwk('ES256', 'ancient'), state: 'retired', retired_at: hourAgo },
      { ...generateJwk('ES256', 'by-hand'), state: 'retired' },
      { ...generateJwk('ES256', 'first'), state: 'active' },
    ];
    writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
    service = await startServiceProcess({ ...ENV, DATA_DIR: dir, SIGNING_KEYS_FILE: file, ISSUER, DEFAULT_AUDIENCE: AUDIENCE, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
  });
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited();
  });

  const issue = async (): Promise<string> => {
    const res = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`demo-api:${DEMO_API_SECRET}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    if (res.status !== 200) throw new Error(`token request answered ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const published = async (): Promise<string[]> => ((await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
  const rotate = async (): Promise<string[]> => {
    const result = await runCli(['keys', 'rotate', '--file', file], { ...ENV, DATA_DIR: tempDir() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout.trimEnd().split('\n');
  };
  const stateOf = (): Record<string, string> =>
    Object.fromEntries((JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ kid: string; state: string }> }).keys.map((key) => [key.kid, key.state]));
  const kidIn = (states: Record<string, string>, state: string): string => Object.entries(states).find(([, each]) => each === state)![0];

  it('three rotations, zero failed verifications', async () => {
    // The verifier as a resource service runs it, with the JWKS refetch cool-down no longer than
    // JWKS_MAX_AGE: the rotation rules are written for that.
    const verifier = createVerifier({ mode: 'jwks', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${service.url}/.well-known/jwks.json`, cooldownMs: MAX_AGE_SEC * 1000 });
    // And one that never refetches for an unknown kid within the test, only when its copy is
    // JWKS_MAX_AGE old: it passes only if every key was published that long before it signed.
    const strict = createVerifier({ mode: 'jwks', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${service.url}/.well-known/jwks.json`, cooldownMs: 3600_000, jwksMaxAgeMs: MAX_AGE_SEC * 1000 });
    let running = true;
    const failures: string[] = [];
    const signers = new Set<string>();
    let verified = 0;
    // Each round: a fresh token, verified at once, and the round before's token again (across a
    // rotation that one was signed by the key just retired).
    const loop = (async () => {
      let previous: string | undefined;
      while (running) {
        const token = await issue();
        signers.add(kidOf(token));
        for (const each of previous ? [token, previous] : [token]) {
          for (const [name, check] of [['verifier', verifier], ['strict verifier', strict]] as const) {
            try {
              if (await check.tokens.verify(each)) verified++;
              else failures.push(`${name} refused a token of ${kidOf(each)}`);
            } catch (error) {
              failures.push(`${name} could not verify a token of ${kidOf(each)}: ${(error as Error).message}`);
            }
          }
        }
        previous = token;
        await sleep(20);
      }
    })();

    await sleep(500);
    // 1. No next key yet: one is added, published, not signing.
    const first = await rotate();
    expect(first).toEqual([expect.stringMatching(/^added \S+ \(ES256\) as next/), expect.stringMatching(/^removed ancient:/), expect.stringMatching(/^stamped by-hand:/)]);
    const second = kidIn(stateOf(), 'next');
    await until(async () => (await published()).includes(second), 10_000, { what: 'the new next key published' });
    expect(await published()).not.toContain('ancient');
    await sleep(MAX_AGE_SEC * 1000);

    // 2. and 3. Promote next, retire active, add a new next.
    for (const round of [2, 3]) {
      const promoted = kidIn(stateOf(), 'next');
      const lines = await rotate();
      expect(lines[0]).toBe(`promoted ${promoted}: next -> active, signs new tokens`);
      const newNext = kidIn(stateOf(), 'next');
      await until(async () => kidOf(await issue()) === promoted && (await published()).includes(newNext), 10_000, { what: `round ${round}: tokens signed by ${promoted}` });
      await sleep(MAX_AGE_SEC * 1000);
    }

    running = false;
    await loop;
    expect(failures).toEqual([]);
    expect(verified).toBeGreaterThan(100);
    // Tokens of three keys were verified: the first, then each promoted one.
    expect([...signers]).toEqual(['first', second, expect.any(String)]);
    const states = stateOf();
    expect(Object.values(states)).toEqual(['retired', 'retired', 'retired', 'active', 'next']);
    expect(states).toMatchObject({ 'by-hand': 'retired', first: 'retired', [second]: 'retired' });
  });
});
