import request from 'supertest';
import type Koa from 'koa';
import { createApp } from '../../src/http/app';
import { createHotPaths } from '../../src/http/hot-paths';
import { RELOAD_INTERVAL_MS } from '../../src/oauth/client-cache';
import type { AppState } from '../../src/http/context';
import { listClientSecrets } from '../../src/identity/client-secret-records';
import { addClientSecret, rotateClientSecret } from '../../src/identity/client-secret-store';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import { ACTORS } from '../support/api-fixture';
import type { FakeClock } from '../support/clock';
import type { TestDeps } from '../support/deps';
import { basic, ISSUER, oauthFixture, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';

const DAY_SEC = 86400;

// Issue 15: a confidential client holds up to two secrets during a rotation (RFC 6749 §2.3.1
// authentication with either), each ending at its own notAfter, on every instance at once.
describe('client secrets with overlap at the token and introspection endpoints', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  const clock = () => deps.clock as FakeClock;
  const token = (target: Koa<AppState>, id: string, secret: string) => request(target.callback()).post('/oauth/token').type('form').set('Authorization', basic(id, secret)).send({ grant_type: 'client_credentials' });
  const tokenByPost = (target: Koa<AppState>, id: string, secret: string) => request(target.callback()).post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
  const introspect = (target: Koa<AppState>, secret: string, subject: string) => request(target.callback()).post('/oauth/introspect').type('form').set('Authorization', basic('rs', secret)).send({ token: subject });
  const now = () => new Date(deps.clock.now());

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture());
  });
  afterAll(async () => deps.cleanup());

  it('accepts the old and the new secret during the overlap, and the old one no more after its end', async () => {
    const rotated = await rotateClientSecret(deps.db, 'service', { keepOldForSec: 7 * DAY_SEC }, now());
    expect((await token(app, 'service', SERVICE_SECRET)).status).toBe(200);
    expect((await token(app, 'service', rotated.secret)).status).toBe(200);
    expect((await tokenByPost(app, 'service', SERVICE_SECRET)).status).toBe(200);
    expect((await tokenByPost(app, 'service', rotated.secret)).status).toBe(200);

    clock().advanceSeconds(7 * DAY_SEC - 1);
    expect((await token(app, 'service', SERVICE_SECRET)).status).toBe(200);
    clock().advanceSeconds(1);
    // notAfter is the first moment it no longer works.
    const refused = await token(app, 'service', SERVICE_SECRET);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await tokenByPost(app, 'service', SERVICE_SECRET)).status).toBe(401);
    expect((await token(app, 'service', rotated.secret)).status).toBe(200);
  });

  it('logs which secret authenticated each token issued and each introspection, never the secret', async () => {
    const [old] = await listClientSecrets(deps.db, 'rs');
    const rotated = await rotateClientSecret(deps.db, 'rs', { keepOldForSec: DAY_SEC }, now());
    const issuedOld = await token(app, 'rs', RS_SECRET);
    const issuedNew = await token(app, 'rs', rotated.secret);
    const issued = deps.logs.events('token.issued').slice(-2);
    expect(issued).toEqual([expect.objectContaining({ clientId: 'rs', secretId: old!.id }), expect.objectContaining({ clientId: 'rs', secretId: rotated.id })]);

    expect((await introspect(app, RS_SECRET, issuedNew.body.access_token)).body.active).toBe(true);
    expect((await introspect(app, rotated.secret, issuedOld.body.access_token)).body.active).toBe(true);
    const lines = deps.logs.events('http.request').filter((line) => line.url === '/oauth/introspect').slice(-2);
    expect(lines).toEqual([expect.objectContaining({ clientId: 'rs', secretId: old!.id, status: 200 }), expect.objectContaining({ clientId: 'rs', secretId: rotated.id, status: 200 })]);

    // A public client's tokens name no secret.
    await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    const spa = deps.logs.events('token.issued').at(-1);
    expect(spa).toMatchObject({ clientId: 'spa' });
    expect(spa).not.toHaveProperty('secretId');
    const text = deps.logs.text();
    for (const secret of [RS_SECRET, rotated.secret]) expect(text).not.toContain(secret);
  });

  it('writes when each secret was last used (from memory, on flush), so an operator sees the old one is idle', async () => {
    const hot = createHotPaths(deps);
    const own = createApp(deps, hot);
    const [first] = await listClientSecrets(deps.db, 'weird.id~_-');
    expect(first?.lastUsedAt).toBeNull();
    expect((await token(own, 'weird.id~_-', 'a:secret with spaces & symbols %+/ 0123456789')).status).toBe(200);
    // Not written by the request: the token endpoint and introspection stay off the database.
    expect((await listClientSecrets(deps.db, 'weird.id~_-'))[0]?.lastUsedAt).toBeNull();
    await hot.secretUses.flush();
    expect((await listClientSecrets(deps.db, 'weird.id~_-'))[0]?.lastUsedAt).toEqual(now());
  });

  describe('two instances over one database, each with its own client cache (CLIENT_CACHE_TTL 2s here)', () => {
    let one: Koa<AppState>;
    let two: Koa<AppState>;
    const SECRET = 'two-instances-secret-with-32-characters!!';
    const CACHE_TTL_SEC = 2;
    const bearer = async () => {
      const res = await request(one.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: 'root', password: 'root-password', resource: ISSUER, scope: 'admin' });
      return `Bearer ${res.body.access_token as string}`;
    };
    /** The database queries that read a client, while `run` runs. */
    const clientReads = async (run: () => Promise<unknown>): Promise<number> => {
      let reads = 0;
      const onQuery = (query: { sql: string }) => {
        if (/from "clients"/.test(query.sql)) reads += 1;
      };
      deps.db.on('query', onQuery);
      try {
        await run();
      } finally {
        deps.db.off('query', onQuery);
      }
      return reads;
    };

    beforeAll(async () => {
      // A short cache keeps the removal test short; the bound it checks is the setting's.
      const instance = { ...deps, config: { ...deps.config, clientCacheTtlSec: CACHE_TTL_SEC } };
      await createClient(deps.db, { id: 'console', type: 'public', grantTypes: ['password'], scopes: ['admin'], audiences: [ISSUER] }, now());
      await registerUser(deps, { username: 'root', password: 'root-password', scopes: [...ACTORS.root] });
      await createClient(deps.db, { id: 'twin', type: 'confidential', secret: SECRET, grantTypes: ['client_credentials'], scopes: [] }, now());
      one = createApp(instance);
      two = createApp(instance);
      // Both instances have the client cached.
      expect((await token(one, 'twin', SECRET)).status).toBe(200);
      expect((await token(two, 'twin', SECRET)).status).toBe(200);
    });

    it('a secret rotated in through one works at once on the other', async () => {
      const res = await request(one.callback()).post('/admin/clients/twin/secrets').set('Authorization', await bearer()).send({ keepOldFor: '1d' });
      expect(res.status).toBe(201);
      expect((await token(two, 'twin', res.body.secret)).status).toBe(200);
      expect((await token(two, 'twin', SECRET)).status).toBe(200);
      expect((await token(one, 'twin', res.body.secret)).status).toBe(200);
    });

    it('a secret removed through one is refused on the other within CLIENT_CACHE_TTL', async () => {
      const old = (await listClientSecrets(deps.db, 'twin')).find((secret) => secret.notAfter !== null);
      // Cached on the other instance just before the removal: the longest it can live on.
      expect((await token(two, 'twin', SECRET)).status).toBe(200);
      const removedAt = Date.now();
      const res = await request(one.callback()).delete(`/admin/clients/twin/secrets/${old!.id}`).set('Authorization', await bearer());
      expect(res.status).toBe(204);
      expect((await token(one, 'twin', SECRET)).status).toBe(401);
      let refusedAt: number | undefined;
      while (refusedAt === undefined && Date.now() - removedAt < CACHE_TTL_SEC * 1000 + 2000) {
        if ((await token(two, 'twin', SECRET)).status === 401) refusedAt = Date.now();
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(refusedAt).toBeDefined();
      expect(refusedAt! - removedAt).toBeLessThanOrEqual(CACHE_TTL_SEC * 1000 + 500);
    });

    it('an old secret is refused on both after the end its rotation on one gave it', async () => {
      const rotated = await rotateSecretThrough(one, '1d');
      const before = await rotateSecretThrough(one, '1d');
      // Both instances cached the client with both secrets working.
      for (const instance of [one, two]) {
        expect((await token(instance, 'twin', rotated.secret)).status).toBe(200);
        expect((await token(instance, 'twin', before.secret)).status).toBe(200);
      }
      clock().advanceSeconds(DAY_SEC);
      for (const instance of [one, two]) {
        expect((await token(instance, 'twin', rotated.secret)).status).toBe(401);
        expect((await token(instance, 'twin', before.secret)).status).toBe(200);
      }
    });

    it('a wrong secret costs at most one read of the client per second, shared by concurrent attempts', async () => {
      expect((await token(two, 'twin', (await rotateSecretThrough(one)).secret)).status).toBe(200);
      const started = Date.now();
      const reads = await clientReads(async () => {
        const replies = await Promise.all(Array.from({ length: 20 }, () => token(two, 'twin', 'wrong-secret-wrong-secret-wrong-secret!')));
        expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(401));
      });
      // One read for the first, one (a second later at most) for all that came after it began.
      expect(reads).toBeLessThanOrEqual(2);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('a secret added just after a wrong attempt still works, within that second', async () => {
      await clientReads(async () => expect((await token(two, 'twin', 'another-wrong-secret-0123456789-abcdef')).status).toBe(401));
      // The CLI on another machine adds it: nothing tells this instance.
      const added = await addClientSecret(deps.db, 'twin', { secret: 'added-by-the-cli-right-after-0123456789' }, now());
      expect(added.id).toMatch(/^cs_/);
      const started = Date.now();
      expect((await token(two, 'twin', 'added-by-the-cli-right-after-0123456789')).status).toBe(200);
      // At most the one-second spacing of reloads, which the wrong attempt just used.
      expect(Date.now() - started).toBeLessThan(RELOAD_INTERVAL_MS + 1000);
    });

    it('a client created through one, after the other has cached its id as unknown, authenticates there at once', async () => {
      const NEW = 'created-elsewhere-secret-0123456789-abc';
      // The other instance asks for the id first: not there yet, and remembered as unknown. One
      // read, as for a known client's wrong secret (the time must not tell them apart).
      expect(await clientReads(async () => expect((await token(two, 'late', NEW)).status).toBe(401))).toBe(1);
      const created = await request(one.callback())
        .post('/admin/clients')
        .set('Authorization', await bearer())
        .send({ id: 'late', type: 'confidential', grantTypes: ['client_credentials'], scopes: [] });
      expect(created.status).toBe(201);
      const started = Date.now();
      expect((await token(two, 'late', created.body.client_secret)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(RELOAD_INTERVAL_MS + 1000);
      // And a wrong secret for it is still refused.
      expect((await token(two, 'late', NEW)).status).toBe(401);
    });

    async function rotateSecretThrough(target: Koa<AppState>, keepOldFor: string | 0 = 0): Promise<{ secret: string }> {
      const secrets = (await listClientSecrets(deps.db, 'twin')).filter((secret) => secret.notAfter === null || secret.notAfter.getTime() > deps.clock.now());
      // Room for the new one: the one already ending goes (made at the same fake instant, creation order does not tell).
      const ending = secrets.find((secret) => secret.notAfter !== null) ?? secrets[0];
      if (secrets.length > 1) await request(target.callback()).delete(`/admin/clients/twin/secrets/${ending!.id}`).set('Authorization', await bearer());
      const res = await request(target.callback()).post('/admin/clients/twin/secrets').set('Authorization', await bearer()).send({ keepOldFor });
      expect(res.status).toBe(201);
      return res.body as { secret: string };
    }
  });
});
