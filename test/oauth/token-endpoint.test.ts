import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import { setUserDisabled } from '../../src/identity/user-lifecycle';
import type { TestDeps } from '../support/deps';
import { basic, ISSUER, oauthFixture, SERVICE_SECRET, verifyAccessToken } from '../support/oauth-fixture';

describe('RFC 6749 token endpoint', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  const token = (form: Record<string, string> | string, authorization?: string) => {
    const req = request(app.callback()).post('/oauth/token').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture());
  });
  afterAll(async () => deps.cleanup());

  describe('§4.3 password grant', () => {
    it('issues an RFC 9068 access token that verifies against the published JWKS', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read items:write' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'items:read items:write', refresh_token: expect.any(String) });
      const claims = await verifyAccessToken({ app, deps }, res.body.access_token);
      expect(claims).toMatchObject({ iss: ISSUER, aud: 'https://api.example.test', client_id: 'spa', scope: 'items:read items:write', username: 'alice', roles: [] });
      expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
      expect(claims.exp! - claims.iat!).toBe(900);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('matches the username case-insensitively', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'ALICE', password: 'alice-password', scope: 'items:read' });
      expect(res.status).toBe(200);
    });

    it('grants the client defaults the user holds when no scope is asked', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
      // spa defaults: items:read users:read:own — alice holds only items:read of them.
      expect(res.body.scope).toBe('items:read');
    });

    it('grants scopes through roles and the role hierarchy', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'mod', password: 'mod-password', scope: 'items:write users:read:own' });
      expect(res.status).toBe(200);
      const claims = await verifyAccessToken({ app, deps }, res.body.access_token);
      expect(claims.roles).toEqual(['moderator']);
    });

    it('refuses a scope the user does not hold, even when the client allows it', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read items:delete' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_scope', error_description: 'scope not allowed: items:delete' });
    });

    it('refuses a scope the user holds but the client may not have', async () => {
      const res = await token({ grant_type: 'password', client_id: 'spa', username: 'mod', password: 'mod-password', scope: 'users:write:own' });
      expect(res.body.error).toBe('invalid_scope');
    });

    it('refuses a malformed scope', async () => {
      const res = await token('grant_type=password&client_id=spa&username=alice&password=alice-password&scope=items%22read');
      expect(res.body).toEqual({ error: 'invalid_scope', error_description: 'malformed scope' });
    });

    it('answers the same invalid_grant for a wrong password and an unknown user', async () => {
      const wrong = await token({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'not-alices' });
      const unknown = await token({ grant_type: 'password', client_id: 'spa', username: 'nobody', password: 'not-alices' });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('refuses a disabled user with the right password in the words a wrong password gets, and logs why', async () => {
      await setUserDisabled(deps, 'mod', true);
      let right, wrong;
      try {
        right = await token({ grant_type: 'password', client_id: 'spa', username: 'mod', password: 'mod-password' });
        wrong = await token({ grant_type: 'password', client_id: 'spa', username: 'mod', password: 'not-mods' });
      } finally {
        await setUserDisabled(deps, 'mod', false);
      }
      expect(right.status).toBe(400);
      expect(right.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
      expect(wrong.status).toBe(right.status);
      expect(wrong.body).toEqual(right.body);
      expect(deps.logs.events('login.disabled')).toEqual([expect.objectContaining({ userId: expect.any(String), clientId: 'spa' })]);
    });

    it.each(['username', 'password'])('requires %s', async (missing) => {
      const form: Record<string, string> = { grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' };
      delete form[missing];
      const res = await token(form);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: `missing parameter: ${missing}` });
    });
  });

  describe('§4.4 client_credentials grant', () => {
    it('issues a token for the client itself with client_secret_basic', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'reports:daily' }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('reports:daily');
      expect(res.body).not.toHaveProperty('refresh_token');
      const claims = await verifyAccessToken({ app, deps }, res.body.access_token);
      expect(claims).toMatchObject({ sub: 'service', client_id: 'service' });
      expect(claims).not.toHaveProperty('username');
    });

    it('accepts client_secret_post, and grants the default scopes when none are asked', async () => {
      const res = await token({ grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET });
      expect(res.status).toBe(200);
      expect(res.body.scope).toBe('items:read');
    });

    it('decodes form-encoded Basic credentials (RFC 6749 §2.3.1)', async () => {
      const res = await token({ grant_type: 'client_credentials' }, basic('weird.id~_-', 'a:secret with spaces & symbols %+/ 0123456789'));
      expect(res.status).toBe(200);
    });

    it('refuses a scope outside the client\'s allowed scopes', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'items:write' }, basic('service', SERVICE_SECRET));
      expect(res.body.error).toBe('invalid_scope');
    });
  });

  describe('§2.3 client authentication', () => {
    it('answers 401 invalid_client with a Basic challenge for a wrong secret sent with Basic', async () => {
      const res = await token({ grant_type: 'client_credentials' }, basic('service', 'wrong-secret'));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="portcullis"');
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    });

    it('answers 401 invalid_client without a challenge for client_secret_post', async () => {
      const res = await token({ grant_type: 'client_credentials', client_id: 'service', client_secret: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it.each([
      ['an unknown client', { grant_type: 'client_credentials', client_id: 'ghost', client_secret: 'whatever' }],
      ['no client at all', { grant_type: 'client_credentials' }],
      ['a confidential client without its secret', { grant_type: 'client_credentials', client_id: 'service' }],
      ['a public client sending a secret', { grant_type: 'password', client_id: 'spa', client_secret: 'x', username: 'alice', password: 'alice-password' }],
    ])('refuses %s with invalid_client', async (_name, form) => {
      const res = await token(form);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });

    it('refuses Basic and client_secret_post at once', async () => {
      const res = await token({ grant_type: 'client_credentials', client_secret: SERVICE_SECRET }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('refuses malformed Basic credentials', async () => {
      const res = await token({ grant_type: 'client_credentials' }, 'Basic !!!not-base64');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Basic');
    });
  });

  describe('§5.2 request errors', () => {
    it('refuses a repeated parameter (§3.2)', async () => {
      const res = await token('grant_type=password&client_id=spa&username=alice&username=bob&password=x');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'parameter username is repeated' });
    });

    it('refuses a body that is not form-encoded', async () => {
      const res = await request(app.callback()).post('/oauth/token').send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('requires grant_type', async () => {
      const res = await token({ client_id: 'spa' });
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'missing parameter: grant_type' });
    });

    it('answers unsupported_grant_type for an unknown grant', async () => {
      const res = await token({ grant_type: 'implicit', client_id: 'spa' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('unsupported_grant_type');
    });

    it('answers unauthorized_client for a grant the client is not allowed', async () => {
      const res = await token({ grant_type: 'password', username: 'alice', password: 'alice-password' }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'unauthorized_client', error_description: 'client is not allowed the password grant' });
    });
  });

  describe('RFC 8707 resource indicators', () => {
    it('sets aud to an allowed resource', async () => {
      const res = await token({ grant_type: 'client_credentials', resource: 'https://items.example.test' }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(200);
      expect((await verifyAccessToken({ app, deps }, res.body.access_token, 'https://items.example.test')).aud).toBe('https://items.example.test');
    });

    it.each([
      ['a resource the client may not use', 'https://billing.example.test'],
      ['a relative resource', '/items'],
      ['a resource with a fragment', 'https://items.example.test#x'],
    ])('refuses %s with invalid_target', async (_name, resource) => {
      const res = await token({ grant_type: 'client_credentials', resource }, basic('service', SERVICE_SECRET));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_target');
    });

    it('refuses more than one resource', async () => {
      const res = await token('grant_type=client_credentials&resource=https%3A%2F%2Fitems.example.test&resource=https%3A%2F%2Fother.example.test', basic('service', SERVICE_SECRET));
      expect(res.body.error).toBe('invalid_target');
    });
  });
});

describe('password grant under a login storm', () => {
  it('answers 503 temporarily_unavailable when the hashing queue is full', async () => {
    const { deps, app } = await oauthFixture({ ARGON2_MAX_CONCURRENT: '1', ARGON2_MAX_QUEUE: '1' });
    try {
      const attempts = await Promise.all(
        Array.from({ length: 6 }, () =>
          request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password', scope: 'items:read' }),
        ),
      );
      const statuses = attempts.map((res) => res.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      const refused = attempts.find((res) => res.status === 503)!;
      expect(refused.body.error).toBe('temporarily_unavailable');
    } finally {
      await deps.cleanup();
    }
  });
});
