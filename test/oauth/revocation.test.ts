import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { storeKinds } from '../support/env';
import { basic, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

describe.each(storeKinds())('RFC 7009 revocation (%s store)', (store) => {
  let deps: TestDeps;
  let app: Koa<AppState>;

  const post = (path: string, form: Record<string, string>, authorization?: string) => {
    const req = request(app.callback()).post(path).type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const revoke = (form: Record<string, string>, authorization?: string) => post('/oauth/revoke', form, authorization);
  const active = async (token: string) => (await post('/oauth/introspect', { token }, basic('rs', RS_SECRET))).body.active as boolean;
  const verify = (token: string) => request(app.callback()).get('/oauth/verify').set('Authorization', `Bearer ${token}`);
  const login = async () =>
    (await post('/oauth/token', { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read' })).body as { access_token: string; refresh_token: string };

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture({}, { store }));
  });
  afterAll(async () => deps.cleanup());

  it('revokes an access token at once: introspection and forward-auth refuse it', async () => {
    const { access_token: token } = await login();
    expect(await active(token)).toBe(true);
    const res = await revoke({ token, token_type_hint: 'access_token', client_id: 'spa' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await active(token)).toBe(false);
    expect((await verify(token)).status).toBe(401);
    expect(deps.logs.events('token.revoked').at(-1)).toMatchObject({ kind: 'access_token', clientId: 'spa' });
  });

  it('keeps the blacklist entry only as long as the token lives', async () => {
    const { access_token: token } = await login();
    await revoke({ token, client_id: 'spa' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; sub: string; exp: number };
    expect((await deps.revocations.revocationState(claims.jti, claims.sub, claims.exp - 1)).blacklisted).toBe(true);
    expect((await deps.revocations.revocationState(claims.jti, claims.sub, claims.exp)).blacklisted).toBe(false);
  });

  it("revokes a refresh token's whole family: the refresh token and the login's access tokens", async () => {
    const first = await login();
    const rotated = (await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.refresh_token })).body as { access_token: string; refresh_token: string };
    const res = await revoke({ token: rotated.refresh_token, token_type_hint: 'refresh_token', client_id: 'spa' });
    expect(res.status).toBe(200);
    const again = await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: rotated.refresh_token });
    expect(again.body.error).toBe('invalid_grant');
    expect(await active(first.access_token)).toBe(false);
    expect(await active(rotated.access_token)).toBe(false);
  });

  it('finds the token whatever the hint says', async () => {
    const { refresh_token: token, access_token: access } = await login();
    await revoke({ token, token_type_hint: 'access_token', client_id: 'spa' });
    expect((await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: token })).body.error).toBe('invalid_grant');
    expect(await active(access)).toBe(false);
  });

  it('lets a confidential client revoke its own token, authenticated', async () => {
    const issued = (await post('/oauth/token', { grant_type: 'client_credentials' }, basic('service', SERVICE_SECRET))).body.access_token as string;
    expect((await revoke({ token: issued }, basic('service', SERVICE_SECRET))).status).toBe(200);
    expect(await active(issued)).toBe(false);
  });

  it("refuses to revoke another client's token, which stays valid", async () => {
    const { access_token: access, refresh_token: refresh } = await login();
    for (const token of [access, refresh]) {
      const res = await revoke({ token, client_id: 'mobile' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'the token was not issued to this client' });
    }
    expect(await active(access)).toBe(true);
    expect((await post('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refresh })).status).toBe(200);
  });

  it.each([
    ['garbage', 'garbage'],
    ['an unknown refresh token', `${'A'.repeat(22)}.${'B'.repeat(43)}`],
    ['a JWT signed by someone else', 'eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln'],
  ])('answers 200 for %s (§2.2)', async (_name, token) => {
    const res = await revoke({ token, client_id: 'spa' });
    expect(res.status).toBe(200);
  });

  it('answers 200 for a token that is already revoked or expired', async () => {
    const { access_token: token, refresh_token: refresh } = await login();
    await revoke({ token: refresh, client_id: 'spa' });
    expect((await revoke({ token: refresh, client_id: 'spa' })).status).toBe(200);
    (deps.clock as FakeClock).advanceSeconds(901);
    expect((await revoke({ token, client_id: 'spa' })).status).toBe(200);
  });

  it('answers unsupported_token_type for a hint it does not know', async () => {
    const { access_token: token } = await login();
    const res = await revoke({ token, token_type_hint: 'id_token', client_id: 'spa' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_token_type');
    expect(await active(token)).toBe(true);
  });

  it('requires the token and a client', async () => {
    expect((await revoke({ client_id: 'spa' })).body.error).toBe('invalid_request');
    const anonymous = await revoke({ token: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const wrongSecret = await revoke({ token: 'x' }, basic('service', 'wrong-secret'));
    expect(wrongSecret.status).toBe(401);
  });
});
