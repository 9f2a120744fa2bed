import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { signJws } from '../../src/tokens/jws';
import type { TestDeps } from '../support/deps';
import { b64json, forge } from '../support/forge';
import { basic, ISSUER, oauthFixture, RS_SECRET } from '../support/oauth-fixture';

// Every kind of bad bearer token, at both server-side verification paths. Each must be
// {"active": false} at introspection and 401 at forward-auth: never active, never a 5xx.

describe('bad tokens at introspection and forward-auth', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let good: string;
  let claims: Record<string, unknown>;
  let refreshToken: string;

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture());
    const login = await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read' });
    good = login.body.access_token;
    refreshToken = login.body.refresh_token;
    claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  });
  afterAll(async () => deps.cleanup());

  const ours = () => deps.keyring.current.active;
  const signed = (changes: Record<string, unknown>, header: Record<string, unknown> = { typ: 'at+jwt' }) => signJws(ours(), header, { ...claims, ...changes });
  const now = () => Math.floor(deps.clock.now() / 1000);

  const cases: Array<[string, () => string]> = [
    ['alg none', () => forge({ typ: 'at+jwt', kid: ours().kid }, claims, { alg: 'none' })],
    ['alg none with a signature', () => `${forge({ typ: 'at+jwt', kid: ours().kid }, claims, { alg: 'none' })}c2ln`],
    ['HS256 keyed with the public key PEM (algorithm confusion)', () => forge({ typ: 'at+jwt', kid: ours().kid }, claims, { alg: 'HS256', secret: ours().verifyKey.export({ type: 'spki', format: 'pem' }) })],
    ['HS256 keyed with the public JWK', () => forge({ typ: 'at+jwt', kid: ours().kid }, claims, { alg: 'HS256', secret: JSON.stringify(ours().publicJwk) })],
    ['signed by another key under our kid', () => forge({ typ: 'at+jwt', kid: ours().kid }, claims, { alg: 'ES256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey })],
    ['an unknown kid', () => forge({ typ: 'at+jwt', kid: 'who' }, claims, { alg: 'ES256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey })],
    ['no kid', () => good.replace(/^[^.]+/, b64json({ alg: 'ES256', typ: 'at+jwt' }))],
    ['wrong typ (an ID token or plain JWT)', () => signed({}, { typ: 'JWT' })],
    ['no typ', () => signed({}, {})],
    ['an unknown critical header', () => signed({}, { typ: 'at+jwt', crit: ['exp'], exp: 1 })],
    ['a refresh token used as a bearer token', () => refreshToken],
    ['expired', () => signed({ iat: now() - 1000, exp: now() - 100 })],
    ['expiring this very second', () => signed({ exp: now() })],
    ['not yet valid (nbf)', () => signed({ nbf: now() + 3600 })],
    ['issued in the future', () => signed({ iat: now() + 3600, exp: now() + 7200 })],
    ['another issuer', () => signed({ iss: 'https://evil.example' })],
    ['a claim of the wrong type', () => signed({ exp: String(now() + 100) })],
    ['a missing jti', () => signed({ jti: undefined })],
    ['a payload that is not an object', () => forge({ typ: 'at+jwt', kid: ours().kid }, '[1,2]', { alg: 'ES256', key: ours().signingKey! })],
    ['a payload that is not JSON', () => forge({ typ: 'at+jwt', kid: ours().kid }, 'not json', { alg: 'ES256', key: ours().signingKey! })],
    ['a header that is not UTF-8', () => `${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${good.split('.')[1]}.${good.split('.')[2]}`],
    ['a payload that is not UTF-8', () => forge({ typ: 'at+jwt', kid: ours().kid }, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1'), { alg: 'ES256', key: ours().signingKey! })],
    ['truncated signature', () => good.slice(0, -4)],
    ['two segments', () => good.split('.').slice(0, 2).join('.')],
    ['four segments', () => `${good}.x`],
    ['a tampered payload', () => `${good.split('.')[0]}.${b64json({ ...claims, scope: 'admin' })}.${good.split('.')[2]}`],
    ['huge', () => `${good.split('.')[0]}.${'A'.repeat(10_000)}.${good.split('.')[2]}`],
    ['whitespace inside', () => good.replace('.', ' .')],
  ];

  it('the good token is active (the cases below differ from it in one way each)', async () => {
    const res = await request(app.callback()).post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token: good });
    expect(res.body).toMatchObject({ active: true, iss: ISSUER });
    expect((await request(app.callback()).get('/oauth/verify').set('Authorization', `Bearer ${good}`)).status).toBe(204);
  });

  it.each(cases)('%s: inactive at introspection', async (_name, make) => {
    const res = await request(app.callback()).post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send({ token: make() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });

  it.each(cases)('%s: 401 at forward-auth', async (_name, make) => {
    const res = await request(app.callback()).get('/oauth/verify').set('Authorization', `Bearer ${make()}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="portcullis", error="invalid_token"/);
  });

  it('logs nothing at error level for any of them', () => {
    expect(deps.logs.lines().filter((line) => (line.level as string) === 'error' || line.level === 50)).toEqual([]);
  });
});
