import { writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { reloadSigningKeys } from '../../src/config/key-reload';
import { generateJwk } from '../../src/tokens/generate';
import type { TestDeps } from '../support/deps';
import { tempDir } from '../support/env';
import { basic, oauthFixture, SERVICE_SECRET, verifyAccessToken } from '../support/oauth-fixture';

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;

// README's rotation runbook, replayed step by step against a running app.
describe('signing-key rotation without downtime', () => {
  const file = path.join(tempDir(), 'jwks.json');
  const keyA = generateJwk('ES256', 'key-a');
  const keyB = generateJwk('EdDSA', 'key-b');
  const write = (...keys: object[]): void => writeFileSync(file, JSON.stringify({ keys }));
  let fixture: Awaited<ReturnType<typeof oauthFixture>>;
  let deps: TestDeps;

  const issue = async (): Promise<string> => {
    const res = await request(fixture.app.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const published = async (): Promise<string[]> => (await request(fixture.app.callback()).get('/.well-known/jwks.json')).body.keys.map((key: { kid: string }) => key.kid);
  const reload = (): boolean => reloadSigningKeys(deps.config, deps.keyring, deps.events);

  beforeAll(async () => {
    write({ ...keyA, state: 'active' });
    fixture = await oauthFixture({ SIGNING_KEYS_FILE: file });
    deps = fixture.deps;
    expect(reload()).toBe(true);
  });
  afterAll(async () => deps.cleanup());

  it('follows the runbook: next → active/retired → removed', async () => {
    // Before: key A signs.
    const tokenA = await issue();
    expect(kidOf(tokenA)).toBe('key-a');
    expect(await published()).toEqual(['key-a']);

    // 1. Add B as "next": published for JWKS caches to pick up, not signing yet.
    write({ ...keyA, state: 'active' }, { ...keyB, state: 'next' });
    expect(reload()).toBe(true);
    expect(await published()).toEqual(['key-a', 'key-b']);
    expect(kidOf(await issue())).toBe('key-a');
    await expect(verifyAccessToken(fixture, tokenA)).resolves.toBeDefined();

    // 2. Promote B to active, retire A: new tokens carry B; A's tokens still verify.
    write({ ...keyA, state: 'retired' }, { ...keyB, state: 'active' });
    expect(reload()).toBe(true);
    const tokenB = await issue();
    expect(kidOf(tokenB)).toBe('key-b');
    await expect(verifyAccessToken(fixture, tokenA)).resolves.toBeDefined();
    await expect(verifyAccessToken(fixture, tokenB)).resolves.toBeDefined();

    // 3. After the longest access-token lifetime, remove A: its tokens are refused.
    write({ ...keyB, state: 'active' });
    expect(reload()).toBe(true);
    expect(await published()).toEqual(['key-b']);
    await expect(verifyAccessToken(fixture, tokenA)).rejects.toThrow(/no applicable key/i);
    await expect(verifyAccessToken(fixture, tokenB)).resolves.toBeDefined();
  });

  it('refuses an invalid new set and keeps the old one in force', async () => {
    const before = await published();
    for (const broken of ['{"keys": [', JSON.stringify({ keys: [{ ...keyA, state: 'active' }, { ...keyB, state: 'active' }] })]) {
      writeFileSync(file, broken);
      expect(reload()).toBe(false);
    }
    expect(await published()).toEqual(before);
    expect(kidOf(await issue())).toBe(before[0]);
    const failures = deps.logs.events('keys.reload_failed');
    expect(failures).toHaveLength(2);
    expect(failures[1]!.reason).toMatch(/exactly one key must be active/);
    // On the audit trail with who acted: the service, on a SIGHUP.
    expect(failures[1]).toMatchObject({ audit: true, outcome: 'failure', actor: 'service:sighup', trigger: 'sighup' });
    expect(deps.logs.text()).not.toContain((keyA as { d: string }).d);
  });
});
