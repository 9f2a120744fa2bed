import request from 'supertest';
import type Koa from 'koa';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import type { User } from '../../src/identity/users';
import { createRedisClient, redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { hashRefreshSecret, newRefreshToken } from '../../src/tokens/refresh-token';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { redisUrl, uniqueName } from '../support/env';
import { basic, ISSUER, oauthFixture, RS_SECRET } from '../support/oauth-fixture';
import { PreviousRelease, previousKeys } from '../store/previous-release';
import { LONGEST_CLIENT_CACHE_TTL_SEC } from '../../src/config/schema';

// A rolling upgrade over commit 1ce0071 (user tags), as clients see it: refresh tokens minted by
// the previous release (22-character family ids, keys without tags) keep rotating here, and
// revocations travel both ways between the two releases' instances on one Redis. The previous
// release's writes and reads are test/store/previous-release.ts; both share the real standalone
// Redis of the run and one key prefix, as two releases of one deployment would.

const INVALID = { error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked' };
const PASSWORD = 'user-password-123';

type Claims = { jti: string; sub: string; sid?: string; client_id: string; exp: number };
const claimsOf = (jwt: string): Claims => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Claims;
const familyOf = (refreshToken: string) => refreshToken.split('.')[0]!;

describe('rolling upgrade to user tags, through the HTTP API (standalone Redis)', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let clock: FakeClock;
  let stores: RedisTokenStores;
  let previous: PreviousRelease;
  let cleanup: () => Promise<void>;

  const api = () => request(app.callback());
  const token = (form: Record<string, string>) => api().post('/oauth/token').type('form').send(form);
  const refresh = (refreshToken: string, clientId = 'spa') => token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
  const introspect = async (accessToken: string) => {
    const res = await api().post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token: accessToken });
    expect(res.status).toBe(200);
    return res.body as { active: boolean; sid?: string; sub?: string };
  };
  const nowSec = () => Math.floor(clock.now() / 1000);
  const newUser = () => registerUser(deps, { username: uniqueName('u'), password: PASSWORD, scopes: ['items:read', 'items:write'] });
  const login = async (user: User, clientId = 'spa', extra: Record<string, string> = { scope: 'items:read items:write' }) => {
    const res = await token({ grant_type: 'password', client_id: clientId, username: user.username, password: PASSWORD, ...extra });
    expect(res.status).toBe(200);
    return res.body as { access_token: string; refresh_token: string };
  };
  /** A login on an instance of the previous release: its family, its refresh token. */
  const previousLogin = async (user: User, clientId = 'spa'): Promise<string> => {
    const first = newRefreshToken(PreviousRelease.newFamilyId());
    const subject = { roles: [], scopes: ['items:read', 'items:write'], at: clock.now() };
    await previous.createFamily(
      { id: first.familyId, userId: user.id, username: user.username, clientId, scope: ['items:read', 'items:write'], audience: 'https://api.example.test', secretHash: hashRefreshSecret(first.secret), ip: '192.0.2.1', userAgent: 'previous/1.0', subject },
      { absoluteTtlMs: 30 * 86_400_000, idleTtlMs: 7 * 86_400_000, graceMs: 5000, revokedRetentionMs: 960_000, maxPerUserClient: 100 },
      clock.now(),
    );
    return first.token;
  };

  beforeAll(async () => {
    const url = redisUrl();
    if (!url) throw new Error('this run has no standalone Redis (see test/support/global-setup.ts)');
    // The fixture's users and clients, on a Redis token store whose key prefix the previous
    // release's instance shares.
    const base = await oauthFixture({}, { store: 'memory' });
    const keyPrefix = `${uniqueName('t')}:`;
    stores = redisTokenStores(createRedisClient({ url, keyPrefix }));
    await stores.storage.connect();
    previous = new PreviousRelease(url, keyPrefix);
    deps = { ...base.deps, storage: stores.storage, families: stores.families, revocations: stores.revocations };
    app = createApp(deps);
    clock = deps.clock as FakeClock;
    cleanup = async () => {
      await previous.close();
      await stores.storage.close();
      await base.deps.cleanup();
    };
    const at = new Date(clock.now());
    await createClient(deps.db, { id: 'console', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['admin', 'users:*', 'clients:*', 'items:*'], audiences: [ISSUER] }, at);
    for (const id of ['tv', 'kiosk']) await createClient(deps.db, { id, type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:*'] }, at);
    await registerUser(deps, { username: 'root', password: PASSWORD, scopes: ['admin'] });
  });
  afterAll(async () => cleanup());

  describe('RFC 6749 §6: a refresh token minted by the previous release', () => {
    it('rotates through POST /oauth/token, in its own family and keys', async () => {
      const user = await newUser();
      const minted = await previousLogin(user);
      const familyId = familyOf(minted);
      expect(familyId).toHaveLength(22);

      const res = await refresh(minted);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'items:read items:write', refresh_token: expect.any(String) });
      expect(res.body.refresh_token).toMatch(new RegExp(`^${familyId}\\.[A-Za-z0-9_-]{43}$`));
      expect(claimsOf(res.body.access_token)).toMatchObject({ sub: user.id, sid: familyId, client_id: 'spa' });
      expect(await introspect(res.body.access_token)).toMatchObject({ active: true, sub: user.id });

      // The idempotent retry inside the grace window hands out the same successor.
      clock.advanceSeconds(2);
      expect((await refresh(minted)).body.refresh_token).toBe(res.body.refresh_token);
      clock.advanceSeconds(6);
      const next = await refresh(res.body.refresh_token as string);
      expect(next.status).toBe(200);
      expect(familyOf(next.body.refresh_token as string)).toBe(familyId);

      // Still where the previous release keeps it (an instance of it could rotate it too).
      expect(await previous.redis.hmget(previousKeys.family(familyId), 'gen', 'state', 'uid')).toEqual(['2', 'active', user.id]);
      expect(await previous.redis.keys(`${previous.keyPrefix}*${familyId}*`)).toEqual(expect.arrayContaining([`${previous.keyPrefix}rf:{${familyId}}`, `${previous.keyPrefix}rf:{${familyId}}:used`]));
      expect(await previous.redis.keys(`${previous.keyPrefix}*${familyId}*`)).toHaveLength(2);
    });

    it('reused after the grace window is theft: the family is revoked, here and for the previous release', async () => {
      const user = await newUser();
      const minted = await previousLogin(user);
      const rotated = await refresh(minted);
      expect(rotated.status).toBe(200);
      expect(await introspect(rotated.body.access_token as string)).toMatchObject({ active: true });
      clock.advanceSeconds(6);

      const replay = await refresh(minted);
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual(INVALID);
      expect((await refresh(rotated.body.refresh_token as string)).body).toEqual(INVALID);
      expect(deps.logs.events('refresh.reuse_detected').find((e) => e.familyId === familyOf(minted))).toMatchObject({ userId: user.id, clientId: 'spa' });
      expect(await introspect(rotated.body.access_token as string)).toEqual({ active: false });
      const { jti } = claimsOf(rotated.body.access_token as string);
      expect((await previous.revocationState(jti, user.id, nowSec(), familyOf(minted), 'spa')).familyRevoked).toBe(true);
    });

    it('is refused to another client, without revoking the family', async () => {
      const user = await newUser();
      const minted = await previousLogin(user);
      expect((await refresh(minted, 'tv')).body).toEqual(INVALID);
      expect((await refresh(minted)).status).toBe(200);
    });
  });

  describe('RFC 7662 introspection of revocations by the previous release', () => {
    it('an access token it blacklisted (at:bl:<jti>) is inactive; another of the user is not', async () => {
      const user = await newUser();
      const revoked = (await login(user)).access_token;
      const other = (await login(user)).access_token;
      expect(await introspect(revoked)).toMatchObject({ active: true });
      await previous.blacklistAccessToken(claimsOf(revoked).jti, claimsOf(revoked).exp, nowSec());
      expect(await introspect(revoked)).toEqual({ active: false });
      expect(await introspect(other)).toMatchObject({ active: true });
    });

    it('its user epoch (user:{id}:revoked) ends the tokens issued up to it, not those after', async () => {
      const user = await newUser();
      const before = await login(user);
      const bystander = (await login(await newUser())).access_token;
      clock.advanceSeconds(1);
      await previous.revokeUserTokensBefore(user.id, clock.now(), 900, nowSec());
      clock.advanceSeconds(1);
      const after = (await login(user)).access_token;

      expect(await introspect(before.access_token)).toEqual({ active: false });
      expect(await introspect(after)).toMatchObject({ active: true });
      expect(await introspect(bystander)).toMatchObject({ active: true });
      // An epoch ends access tokens, not logins: the refresh token still works and its new
      // access token, issued after the epoch, is active.
      const rotated = await refresh(before.refresh_token);
      expect(rotated.status).toBe(200);
      expect(await introspect(rotated.body.access_token as string)).toMatchObject({ active: true });
    });

    it('its client epoch (client:{id}:revoked) ends that client\'s tokens only', async () => {
      const user = await newUser();
      const tv = (await login(user, 'tv', { scope: 'items:read' })).access_token;
      const spa = (await login(user)).access_token;
      clock.advanceSeconds(1);
      await previous.revokeClientTokensBefore('tv', clock.now(), 900, nowSec());
      expect(await introspect(tv)).toEqual({ active: false });
      expect(await introspect(spa)).toMatchObject({ active: true });
    });
  });

  describe('revocations by this release reach instances of the previous one', () => {
    it('RFC 7009: an access token revoked here is on the blacklist the previous release reads', async () => {
      const user = await newUser();
      const issued = (await login(user)).access_token;
      const { jti, sid } = claimsOf(issued);
      expect((await previous.revocationState(jti, user.id, nowSec(), sid, 'spa')).blacklisted).toBe(false);
      expect((await api().post('/oauth/revoke').type('form').send({ token: issued, client_id: 'spa' })).status).toBe(200);
      expect(await introspect(issued)).toEqual({ active: false });
      expect((await previous.revocationState(jti, user.id, nowSec(), sid, 'spa')).blacklisted).toBe(true);
    });

    it('RFC 7009: revoking a refresh token of the previous release ends its family for both', async () => {
      const user = await newUser();
      const minted = await previousLogin(user);
      const rotated = await refresh(minted);
      expect((await api().post('/oauth/revoke').type('form').send({ token: rotated.body.refresh_token, client_id: 'spa' })).status).toBe(200);
      expect((await refresh(rotated.body.refresh_token as string)).body).toEqual(INVALID);
      expect(await introspect(rotated.body.access_token as string)).toEqual({ active: false });
      expect((await previous.revocationState(claimsOf(rotated.body.access_token as string).jti, user.id, nowSec(), familyOf(minted))).familyRevoked).toBe(true);
    });

    it('RFC 7009: a login of this release ended here leaves its family revoked where the previous release looks', async () => {
      const user = await newUser();
      const mine = await login(user);
      const sid = claimsOf(mine.access_token).sid!;
      expect((await previous.revocationState('any', user.id, nowSec(), sid)).familyRevoked).toBe(false);
      expect((await api().post('/oauth/revoke').type('form').send({ token: mine.refresh_token, client_id: 'spa' })).status).toBe(200);
      expect(await introspect(mine.access_token)).toEqual({ active: false });
      expect((await previous.revocationState('any', user.id, nowSec(), sid)).familyRevoked).toBe(true);
    });

    it('theft detected here on a login of this release is seen by the previous release too', async () => {
      const user = await newUser();
      const mine = await login(user);
      expect((await refresh(mine.refresh_token)).status).toBe(200);
      clock.advanceSeconds(10);
      expect((await refresh(mine.refresh_token)).body).toEqual(INVALID);
      expect((await previous.revocationState('any', user.id, nowSec(), claimsOf(mine.access_token).sid)).familyRevoked).toBe(true);
    });

    it('deleting a client (DELETE /admin/clients/:id) ends its tokens here and for the previous release', async () => {
      const user = await newUser();
      const kiosk = (await login(user, 'kiosk', { scope: 'items:read' })).access_token;
      const spa = (await login(user)).access_token;
      const root = (await token({ grant_type: 'password', client_id: 'console', username: 'root', password: PASSWORD, resource: ISSUER, scope: 'admin' })).body.access_token as string;
      clock.advanceSeconds(1);
      expect((await api().delete('/admin/clients/kiosk').set('Authorization', `Bearer ${root}`)).status).toBe(204);

      expect(await introspect(kiosk)).toEqual({ active: false });
      expect(await introspect(spa)).toMatchObject({ active: true });
      const seen = await previous.revocationState(claimsOf(kiosk).jti, user.id, nowSec(), claimsOf(kiosk).sid, 'kiosk');
      // Ahead by the longest client cache and a second (client-lifecycle.ts).
      expect(seen.clientRevokedBefore).toBe(clock.now() + LONGEST_CLIENT_CACHE_TTL_SEC * 1000 + 1000);
    });
  });

  describe('log out everywhere (DELETE /users/me/sessions)', () => {
    it('lists and ends a session of the previous release, known only to its index', async () => {
      const user = await newUser();
      const minted = await previousLogin(user);
      clock.advanceSeconds(1);
      const mine = await login(user, 'console', { resource: ISSUER, scope: 'items:read' });
      const bearer = { Authorization: `Bearer ${mine.access_token}` };

      const listed = await api().get('/users/me/sessions').set(bearer);
      expect(listed.status).toBe(200);
      expect((listed.body as Array<{ id: string; clientId: string; current: boolean }>).map(({ id, clientId, current }) => ({ id, clientId, current }))).toEqual([
        { id: familyOf(minted), clientId: 'spa', current: false },
        { id: familyOf(mine.refresh_token), clientId: 'console', current: true },
      ]);

      clock.advanceSeconds(1);
      expect((await api().delete('/users/me/sessions').set(bearer)).status).toBe(204);
      expect((await refresh(minted)).body).toEqual(INVALID);
      expect((await refresh(mine.refresh_token, 'console')).body).toEqual(INVALID);
      expect(await introspect(mine.access_token)).toEqual({ active: false });
      const seen = await previous.revocationState('any', user.id, nowSec(), familyOf(minted));
      expect(seen).toMatchObject({ familyRevoked: true, userRevokedBefore: clock.now() });
    });
  });
});
