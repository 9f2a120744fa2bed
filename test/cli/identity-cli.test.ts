import { familyPolicy } from '../../src/oauth/refresh-policy';
import { createRedisClient, redisTokenStores } from '../../src/store/redis/redis-store';
import { hashRefreshSecret, newFamilyId } from '../../src/tokens/refresh-token';
import { createTestDatabase, databaseKinds, rawRedis, redisUrl, tempDir, testConfig, uniqueName } from '../support/env';
import { runCli } from '../support/process';
import { userKeys } from '../../src/store/redis/keys';

// Each test here starts several node processes (the CLI or the service, each loading PGlite or
// connecting to the backends): on a loaded two-core machine one test can take over the
// default 30 s, so these get more room.
jest.setTimeout(120_000);

// The ops CLI as an operator runs it: the compiled binary, a real database, output and exit codes.
describe.each(databaseKinds())('portcullis CLI on %s', (dbKind) => {
  let env: Record<string, string>;
  let drop: () => Promise<void> = async () => undefined;
  const prefix = `${uniqueName('cli')}:`;

  beforeAll(async () => {
    env = { DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', REDIS_KEY_PREFIX: prefix };
    if (dbKind === 'postgres') {
      const database = await createTestDatabase('postgres', { migrate: false });
      env.DATABASE_URL = database.url!;
      drop = database.drop;
    }
    if (redisUrl()) env.REDIS_URL = redisUrl()!;
  });
  afterAll(async () => drop());

  const cli = (args: string[], input?: string) => runCli(args, env, input);

  it('migrate applies migrations once and reports status', async () => {
    const first = await cli(['migrate', '--json']);
    expect(first.code).toBe(0);
    const status = await cli(['migrate', '--status', '--json']);
    expect(JSON.parse(status.stdout)).toEqual({ applied: ['0001-identity', '0002-browser-sign-in', '0003-client-secrets', '0004-managed-clients', '0005-clients-file-revisions'], pending: [], unknown: [] });
  });

  it('role list shows the hierarchy with inherited scopes', async () => {
    const result = await cli(['role', 'list', '--json']);
    expect(result.code).toBe(0);
    const roles = JSON.parse(result.stdout) as Array<{ name: string; effectiveScopes: string[] }>;
    expect(roles.find((role) => role.name === 'moderator')?.effectiveScopes).toEqual(expect.arrayContaining(['items:read', 'users:read:own', 'items:write']));
  });

  it('user create, with the password on stdin, roles and scopes; list shows it', async () => {
    const created = await cli(['user', 'create', '--username', 'Olivia', '--password-stdin', '--email', 'o@example.com', '--name', 'Olivia O', '--role', 'user', '--role', 'moderator', '--scope', 'reports:read', '--json'], 'olivias-password\n');
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout);
    expect(user).toMatchObject({ username: 'Olivia', email: 'o@example.com', fullName: 'Olivia O', roles: ['moderator', 'user'], scopes: ['reports:read'], disabled: false });
    expect(created.stdout).not.toContain('olivias-password');
    expect(created.stdout).not.toContain('argon2');

    const listed = await cli(['user', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^Olivia\t[0-9a-f-]{36}\tenabled\troles=moderator,user\tscopes=reports:read$/m);
  });

  it.each([
    [['user', 'create', '--username', 'olivia', '--password', 'another-password'], /username already taken/],
    [['user', 'create', '--username', 'pat', '--password', 'short'], /at least 8 characters/],
    [['user', 'create', '--username', 'pat', '--password', 'long-enough', '--role', 'wizard'], /unknown role: wizard/],
    [['user', 'create', '--username', 'pat'], /exactly one of --password or --password-stdin/],
    [['user', 'create', '--username', 'bad name', '--password', 'long-enough'], /username must be/],
    [['user', 'create', '--password', 'long-enough'], /required option '--username/],
    [['user', 'disable', 'nobody'], /no such user: nobody/],
    [['user', 'set-password', 'olivia', '--password', 'tiny'], /at least 8 characters/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'client_credentials', '--scopes', 'a'], /public client cannot use client_credentials/],
    [['client', 'create', '--id', 'x', '--type', 'robot', '--grants', 'password', '--scopes', 'a'], /confidential or public/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'teleport', '--scopes', 'a'], /unknown grant type: teleport/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'password', '--scopes', 'a"b'], /not a valid scope list/],
    [['client', 'rotate-secret', 'missing'], /no such client: missing/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a'], /authorization_code grant needs at least one redirect URI/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a', '--redirect-uris', 'http://app.example.com/cb'], /http: for a host other than localhost/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a', '--redirect-uris', 'https://app.example.com/cb#x'], /fragment/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a', '--redirect-uris', 'javascript:alert(1)'], /scheme javascript:/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a', '--redirect-uris', 'https://a.example/cb', '--post-logout-redirect-uris', 'data:,x'], /post-logout redirect URIs: .*scheme data:/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'authorization_code', '--scopes', 'a', '--redirect-uris', 'https://a.example/cb', '--refresh-cookie'], /refresh-token cookie needs the refresh_token grant/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'refresh_token', '--scopes', 'a', '--refresh-ttl', 'soon'], /--refresh-ttl: not a duration/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'refresh_token', '--scopes', 'a', '--refresh-ttl', '30s'], /refresh token lifetime must be whole seconds from 60/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'refresh_token', '--scopes', 'a', '--refresh-ttl', '367d'], /to 31622400 \(366 days\)/],
    [['client', 'create', '--id', 'x', '--type', 'public', '--grants', 'refresh_token', '--scopes', 'a', '--refresh-ttl', '1h', '--refresh-idle-ttl', '2h'], /idle lifetime cannot be longer/],
  ])('%p fails clearly with exit 1', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('user disable and enable; disabling revokes access at once in the shared store', async () => {
    const disabled = await cli(['user', 'disable', 'OLIVIA', '--json']);
    expect(disabled.code).toBe(0);
    const user = JSON.parse(disabled.stdout) as { id: string; disabled: boolean };
    expect(user.disabled).toBe(true);
    if (redisUrl()) {
      const redis = rawRedis();
      try {
        const epoch = await redis.hget(`${prefix}${userKeys(user.id).epoch}`, 'epoch');
        expect(Number(epoch)).toBeGreaterThan(Date.now() / 1000 - 60);
      } finally {
        redis.disconnect();
      }
    }
    const enabled = await cli(['user', 'enable', 'olivia']);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout.trim()).toBe('enabled user Olivia');
  });

  it('user set-password from stdin', async () => {
    const result = await cli(['user', 'set-password', 'olivia', '--password-stdin'], 'a-brand-new-password\n');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('password set for Olivia');
  });

  it('client create prints a generated secret once; list never shows it; rotate-secret adds another', async () => {
    const created = await cli(['client', 'create', '--id', 'svc', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read items:write', '--default-scopes', 'items:read', '--audiences', 'https://api.example.com', '--introspect', '--json']);
    expect(created.code).toBe(0);
    const client = JSON.parse(created.stdout);
    expect(client).toMatchObject({ id: 'svc', type: 'confidential', scopes: ['items:read', 'items:write'], defaultScopes: ['items:read'], audiences: ['https://api.example.com'], canIntrospect: true });
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const listed = await cli(['client', 'list', '--json']);
    expect(listed.stdout).not.toContain(client.client_secret);
    expect(listed.stdout).not.toContain('hmac');
    expect(JSON.parse(listed.stdout).map((c: { id: string }) => c.id)).toContain('svc');

    const rotated = await cli(['client', 'rotate-secret', 'svc', '--json']);
    expect(rotated.code).toBe(0);
    const { secret: next } = JSON.parse(rotated.stdout);
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next).not.toBe(client.client_secret);
  });

  it('client create with a given secret does not echo it', async () => {
    const result = await cli(['client', 'create', '--id', 'given', '--type', 'confidential', '--secret', 's'.repeat(40), '--grants', 'client_credentials', '--scopes', 'a']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('s'.repeat(40));
    const duplicate = await cli(['client', 'create', '--id', 'given', '--type', 'public', '--grants', 'password', '--scopes', 'a']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/already exists/);
  });
  it('client create registers a code-flow client: redirect URIs stored exactly, consent, refresh settings; list shows them', async () => {
    const redirectUris = ['https://App.example.com/callback?from=cli', 'http://127.0.0.1:51004/cb', 'com.example.app:/oauth2redirect'];
    // At LOG_LEVEL=info (the default), so that the audit line is on stderr.
    const created = await runCli([
      'client', 'create', '--id', 'code-spa', '--type', 'public', '--name', 'Code SPA',
      '--grants', 'authorization_code,refresh_token', '--scopes', 'items:read items:write', '--default-scopes', 'items:read',
      '--redirect-uris', ` ${redirectUris.join('  ')} `, '--post-logout-redirect-uris', 'https://App.example.com/',
      '--require-consent', '--refresh-ttl', '8h', '--refresh-idle-ttl', '1h', '--refresh-cookie', '--origins', 'https://app.example.com', '--json',
    ], { ...env, LOG_LEVEL: 'info' });
    expect(created.code).toBe(0);
    const expected = {
      id: 'code-spa',
      type: 'public',
      // --grants is required and taken as given: nothing adds the password grant.
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris,
      postLogoutRedirectUris: ['https://App.example.com/'],
      requireConsent: true,
      refreshTokenTtlSec: 28800,
      refreshIdleTtlSec: 3600,
      refreshTokenInCookie: true,
    };
    expect(JSON.parse(created.stdout)).toMatchObject(expected);
    expect(JSON.parse(created.stdout)).not.toHaveProperty('client_secret');
    // The audit line says what the new client may do: every privilege, not just its scopes.
    const audited = created.stderr.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { event?: string; changes?: unknown }).find((line) => line.event === 'admin.client_created');
    const { id: _id, ...settings } = expected;
    expect(audited?.changes).toMatchObject({ ...settings, name: 'Code SPA', corsOrigins: ['https://app.example.com'], canIntrospect: false, audiences: [], scopes: ['items:read', 'items:write'] });

    const listed = await cli(['client', 'list', '--json']);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).find((c) => c.id === 'code-spa')).toMatchObject(expected);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).find((c) => c.id === 'svc')).toMatchObject({ redirectUris: [], requireConsent: false, refreshTokenTtlSec: null });
    expect((await cli(['client', 'list'])).stdout).toMatch(/^code-spa\tpublic\tgrants=authorization_code,refresh_token\tscopes=items:read items:write\tredirect_uris=https:\/\/App\.example\.com\/callback\?from=cli http:\/\/127\.0\.0\.1:51004\/cb com\.example\.app:\/oauth2redirect\tconsent$/m);
  });

  it('session commands need the shared store', async () => {
    const result = await runCli(['session', 'list', 'olivia'], { ...env, REDIS_URL: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set REDIS_URL');
  });

  if (redisUrl()) {
    it('session list, revoke and revoke-all work on the logins in Redis', async () => {
      const olivia = (JSON.parse((await cli(['user', 'list', '--prefix', 'oli', '--json'])).stdout) as Array<{ id: string }>)[0]!;
      const { storage, families } = redisTokenStores(createRedisClient({ url: redisUrl()!, keyPrefix: prefix }));
      await storage.connect();
      const policy = familyPolicy(testConfig());
      const ids = [newFamilyId(olivia.id), newFamilyId(olivia.id)];
      try {
        for (const [i, id] of ids.entries()) {
          await families.createFamily({ id, userId: olivia.id, clientId: 'spa', scope: ['items:read'], audience: 'https://api.example.com', secretHash: hashRefreshSecret(`secret-${i}`), ip: '192.0.2.7', userAgent: 'cli-test' }, policy, Date.now() + i);
        }
        const listed = await cli(['session', 'list', 'olivia', '--json']);
        expect(listed.code).toBe(0);
        expect(JSON.parse(listed.stdout)).toEqual(ids.map((id) => expect.objectContaining({ id, clientId: 'spa', ip: '192.0.2.7', userAgent: 'cli-test', scope: ['items:read'] })));

        // At LOG_LEVEL=info (the default), a CLI change's audit line is on stderr.
        const revokedOne = await runCli(['session', 'revoke', 'olivia', ids[0]!], { ...env, LOG_LEVEL: 'info' });
        expect(revokedOne.stdout.trim()).toBe(`revoked session ${ids[0]}`);
        // Audited as the admin API's session revocations are, on stderr at least.
        expect(revokedOne.stderr).toContain('"event":"admin.session_revoked"');
        expect(JSON.parse(revokedOne.stderr.trim().split('\n').pop()!)).toMatchObject({ audit: true, via: 'cli', target: olivia.id, changes: { sessionId: ids[0] } });
        const again = await cli(['session', 'revoke', 'olivia', ids[0]!]);
        expect(again.code).toBe(1);
        expect(again.stderr).toContain('no live session');
        expect((await families.getFamily(ids[0]!, Date.now()))?.revoked).toBe(true);

        // A session id beginning with '-' (new ones never do; older ones may) goes after '--'.
        const dashed = `-${newFamilyId(olivia.id).slice(1)}`;
        await families.createFamily({ id: dashed, userId: olivia.id, clientId: 'spa', scope: ['items:read'], audience: 'https://api.example.com', secretHash: hashRefreshSecret('secret-dashed'), ip: '192.0.2.7', userAgent: 'cli-test' }, policy, Date.now() + 2);
        expect((await cli(['session', 'revoke', 'olivia', '--', dashed])).stdout.trim()).toBe(`revoked session ${dashed}`);
        expect((await families.getFamily(dashed, Date.now()))?.revoked).toBe(true);

        const all = await runCli(['session', 'revoke-all', 'olivia', '--json'], { ...env, LOG_LEVEL: 'info' });
        expect(JSON.parse(all.stdout)).toEqual({ revoked: 1 });
        expect(all.stderr).toContain('"event":"admin.sessions_revoked"');
        expect(JSON.parse((await cli(['session', 'list', 'olivia', '--json'])).stdout)).toEqual([]);
      } finally {
        await storage.close();
      }
    });
  }
});
