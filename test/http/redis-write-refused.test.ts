import { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import type { Deps } from '../../src/deps';
import { createApp } from '../../src/http/app';
import { changeUser, removeUser, setUserDisabled, setUserPassword } from '../../src/identity/user-lifecycle';
import { effectiveScopes, findUserByUsername } from '../../src/identity/users';
import { buildDeps, closeDeps } from '../../src/main';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { startRedis, type Backend } from '../support/backends';
import { tempDir } from '../support/env';
import { LogCapture } from '../support/logs';
import { basic } from '../support/oauth-fixture';
import { PASSWORD, RS_SECRET, seedStoreService } from '../support/store-service';

// A change that must end a user's access (disable, new password, delete, a scope removed) while Redis refuses
// writes (a full Redis under noeviction answers OOM; reads still work, so callers pass bearer
// auth): the change is refused whole, never made in the database with the tokens left alive.
// Found by the outside review of issue 13 (a node's writes failing during POST .../disable).

describe('ending a user\'s access while Redis refuses writes', () => {
  let redis: Backend;
  let control: Redis;
  let deps: Deps;
  const logs = new LogCapture();

  const introspect = async (token: string) =>
    (await request(createApp(deps).callback()).post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).type('form').send({ token })).body.active as boolean;
  const login = async () =>
    (await request(createApp(deps).callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'app', username: 'carol', password: PASSWORD, scope: 'items:read' })).body.access_token as string;
  const refuseWrites = (refuse: boolean) => control.config('SET', 'maxmemory', refuse ? '1' : '0');

  beforeAll(async () => {
    redis = await startRedis();
    control = new Redis(redis.url);
    await control.config('SET', 'maxmemory-policy', 'noeviction');
    deps = await buildDeps(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', DATA_DIR: tempDir(), REDIS_URL: redis.url, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }), { logDestination: logs });
    await seedStoreService(deps);
  });
  afterAll(async () => {
    control.disconnect();
    await closeDeps(deps);
    await redis.destroy();
  });
  afterEach(() => refuseWrites(false));

  it('disable: refused (store unavailable), the user stays enabled; once Redis takes writes it is whole', async () => {
    const token = await login();
    await refuseWrites(true);
    await expect(setUserDisabled(deps, 'carol', true)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await findUserByUsername(deps.db, 'carol'))?.disabled).toBe(false);
    expect(await introspect(token)).toBe(true);
    await refuseWrites(false);
    await setUserDisabled(deps, 'carol', true);
    expect((await findUserByUsername(deps.db, 'carol'))?.disabled).toBe(true);
    expect(await introspect(token)).toBe(false);
    await setUserDisabled(deps, 'carol', false);
  });

  it('a scope removed: refused whole; the retry still sees the scope as lost and ends the tokens that carry it', async () => {
    const carol = (await findUserByUsername(deps.db, 'carol'))!;
    const token = await login();
    await refuseWrites(true);
    await expect(changeUser(deps, carol.id, { scopes: [] })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await effectiveScopes(deps.db, carol.id)).toEqual(['items:read']);
    await refuseWrites(false);
    await changeUser(deps, carol.id, { scopes: [] });
    expect(await effectiveScopes(deps.db, carol.id)).toEqual([]);
    expect(await introspect(token)).toBe(false);
    await changeUser(deps, carol.id, { scopes: ['items:read'] });
  });

  it('new password and delete: refused the same way, the database unchanged', async () => {
    const before = await findUserByUsername(deps.db, 'carol');
    await refuseWrites(true);
    await expect(setUserPassword(deps, 'carol', 'another-password-123')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(removeUser(deps, before!.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    const after = await findUserByUsername(deps.db, 'carol');
    expect(after?.passwordHash).toBe(before?.passwordHash);
  });
});
