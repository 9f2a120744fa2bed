import request from 'supertest';
import { findUserByUsername } from '../../src/identity/users';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { basic, RS_SECRET } from '../support/oauth-fixture';

// Issue 11 item 10: PostgreSQL text cannot hold U+0000, and a lone surrogate has no UTF-8 form,
// so such a string must be refused where it enters — a 400 naming the field, never a 500.
const REFUSAL = /NUL|surrogate/;

describe('string inputs refuse NUL and lone surrogates', () => {
  let f: ApiFixture;
  let root: string;
  const api = () => request(f.app.callback());
  const bearer = () => ({ Authorization: `Bearer ${root}` });
  /** Sends the JSON text as written, so `\ud800` arrives as an escaped lone surrogate. */
  const rawJson = (method: 'post' | 'patch', path: string, text: string) => api()[method](path).set(bearer()).set('Content-Type', 'application/json').send(text);

  beforeAll(async () => {
    f = await apiFixture();
    root = await f.token('root');
  });
  afterAll(async () => f.deps.cleanup());

  describe('JSON API', () => {
    it('refuses a NUL in a query parameter, naming it', async () => {
      const res = await api().get('/admin/users?prefix=%00').set(bearer());
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.details).toEqual({ prefix: expect.stringMatching(REFUSAL) });
    });

    it('refuses a NUL in a JSON string (POST /admin/users fullName), naming the field', async () => {
      const res = await api().post('/admin/users').set(bearer()).send({ username: 'nul-user', password: 'nul-user-password', fullName: 'Nul\u0000Person' });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ fullName: expect.stringMatching(REFUSAL) });
      expect(await findUserByUsername(f.deps.db, 'nul-user')).toBeUndefined();
    });

    it('refuses a NUL in an array element (PATCH a role name), naming its index', async () => {
      const id = (await findUserByUsername(f.deps.db, 'alice'))!.id;
      const res = await api().patch(`/admin/users/${id}`).set(bearer()).send({ roles: ['editor', 'mod\u0000erator'] });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ 'roles.1': expect.stringMatching(REFUSAL) });
    });

    it('refuses a NUL in a client name and an audience', async () => {
      const res = await api().post('/admin/clients').set(bearer()).send({ id: 'nul-client', type: 'public', grantTypes: ['password'], scopes: ['items:read'], name: 'Nul\u0000App', audiences: ['https://a.example.test\u0000'] });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ name: expect.stringMatching(REFUSAL), 'audiences.0': expect.stringMatching(REFUSAL) });
      expect((await api().get('/admin/clients/nul-client').set(bearer())).status).toBe(404);
    });

    it('refuses a lone surrogate sent as a JSON escape, without echoing it', async () => {
      const res = await rawJson('post', '/admin/users', '{"username":"surrogate","password":"surrogate-password","fullName":"x\\ud800y"}');
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ fullName: expect.stringMatching(REFUSAL) });
      expect(res.text).not.toMatch(/\\ud800|\ud800/i);
      const low = await rawJson('post', '/admin/clients', '{"id":"surrogate","type":"public","grantTypes":["password"],"scopes":["items:read"],"name":"\\udc00"}');
      expect(low.status).toBe(400);
      expect(low.body.details).toEqual({ name: expect.stringMatching(REFUSAL) });
    });

    it('accepts a well-formed surrogate pair (an emoji in a name)', async () => {
      const res = await rawJson('post', '/admin/users', '{"username":"emoji","password":"emoji-password","fullName":"Ada \\ud83d\\ude00"}');
      expect(res.status).toBe(201);
      expect(res.body.fullName).toBe('Ada \u{1F600}');
    });

    it('refuses a NUL in an object key without echoing the key', async () => {
      const res = await rawJson('post', '/admin/users', '{"username":"key","password":"key-password","a\\u0000b":"x"}');
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('\\u0000');
    });

    it('walks a deeply nested body without overflowing the stack', async () => {
      const depth = 5000;
      const res = await rawJson('post', '/admin/users', `{"roles":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}`);
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.details)).toEqual([`roles${'.0'.repeat(depth)}`]);
    });

    it.each(['/admin/users/%00', '/admin/users/a%00b/sessions', '/admin/clients/%00'])('refuses a NUL in the path %s with a 400', async (path) => {
      const res = await api().get(path).set(bearer());
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.details).toEqual({ path: expect.stringMatching(REFUSAL) });
    });

    it('refuses a NUL in a path for a write too (DELETE /admin/clients/%00)', async () => {
      expect((await api().delete('/admin/clients/x%00').set(bearer())).status).toBe(400);
    });

    it('refuses a NUL in the account API body (PATCH /users/me)', async () => {
      const res = await api().patch('/users/me').set(bearer()).send({ fullName: '\u0000' });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual({ fullName: expect.stringMatching(REFUSAL) });
    });
  });

  describe('OAuth endpoints (RFC 6749 §5.2 invalid_request)', () => {
    it('refuses a NUL in the password grant username, the same whether or not the user exists', async () => {
      const send = (username: string) => api().post('/oauth/token').type('form').send(`grant_type=password&client_id=console&username=${username}&password=root-password`);
      const known = await send('root%00');
      const unknown = await send('nobody%00');
      expect(known.status).toBe(400);
      expect(known.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('username') });
      expect(unknown.body).toEqual(known.body);
      expect(known.text).not.toContain('root');
    });

    it('refuses a NUL in the introspected token, naming the parameter', async () => {
      const res = await api().post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send('token=abc%00def');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('token') });
      expect(res.text).not.toContain('abc');
    });

    it('refuses a NUL in the revoked token and in a client_id', async () => {
      const revoke = await api().post('/oauth/revoke').type('form').set('Authorization', basic('rs', RS_SECRET)).send('token=%00');
      expect(revoke.status).toBe(400);
      expect(revoke.body.error).toBe('invalid_request');
      const client = await api().post('/oauth/token').type('form').send('grant_type=client_credentials&client_id=rs%00');
      expect(client.status).toBe(400);
      expect(client.body.error_description).toContain('client_id');
    });

    it('refuses a NUL in the scope query of /oauth/verify with a 400', async () => {
      const res = await api().get('/oauth/verify?scope=items:read%00').set(bearer());
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('scope') });
    });

    it('answers a NUL in Basic client credentials as the usual invalid_client, not a 500', async () => {
      const res = await api().post('/oauth/introspect').type('form').set('Authorization', `Basic ${Buffer.from('rs%00:x').toString('base64')}`).send('token=abc');
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });

    it('still accepts a form value that is merely unusual (percent-encoded UTF-8, a plus)', async () => {
      const res = await api().post('/oauth/introspect').type('form').set('Authorization', basic('rs', RS_SECRET)).send('token=caf%C3%A9+%F0%9F%98%80');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });
  });

  describe('bodies that do not decompress (found by the outside review)', () => {
    it.each(['gzip', 'deflate', 'br'])('answers a %s body that is not one with 400, not 500', async (encoding) => {
      const form = await api().post('/oauth/token').set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', encoding).send('grant_type=password');
      expect(form.status).toBe(400);
      expect(form.body.error).toBe('invalid_request');
      const json = await api().patch('/users/me').set(bearer()).set('Content-Type', 'application/json').set('Content-Encoding', encoding).send('{"fullName":"x"}');
      expect(json.status).toBe(400);
      expect(json.body.error).toBe('invalid_request');
    });
  });
});
