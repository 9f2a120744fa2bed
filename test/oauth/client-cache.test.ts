import request from 'supertest';
import { rotateClientSecret } from '../../src/identity/client-secret-store';
import type { Database } from '../../src/db/database';
import { ClientCache } from '../../src/oauth/client-cache';
import { basic, oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The database, until `down` is set: then every query fails as a stopped server's would. */
function breakable(db: Database): { db: Database; down: boolean } {
  const state = { down: false, db };
  state.db = new Proxy(db, {
    apply(target, thisArg, args: unknown[]) {
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  });
  return state;
}

describe('client records on the token, introspection and revocation endpoints', () => {
  it('follow a change made elsewhere (the CLI, another instance) within CLIENT_CACHE_TTL', async () => {
    // Long enough that a loaded machine still rotates the secret and asks again within it.
    const { deps, app } = await oauthFixture({ CLIENT_CACHE_TTL: '3s' });
    try {
      const token = () => request(app.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' });
      expect((await token()).status).toBe(200);
      const cachedAt = Date.now();
      await rotateClientSecret(deps.db, 'service', { keepOldForSec: 0 }, new Date(deps.clock.now()));
      // Within the TTL the cached record still answers: the documented bound.
      expect((await token()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cachedAt + 3100 - Date.now())));
      expect((await token()).status).toBe(401);
    } finally {
      await deps.cleanup();
    }
  });

  it('are read from the database on every request with CLIENT_CACHE_TTL=0', async () => {
    const { deps, app } = await oauthFixture({ CLIENT_CACHE_TTL: '0' });
    try {
      const token = () => request(app.callback()).post('/oauth/token').type('form').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' });
      expect((await token()).status).toBe(200);
      await rotateClientSecret(deps.db, 'service', { keepOldForSec: 0 }, new Date(deps.clock.now()));
      expect((await token()).status).toBe(401);
    } finally {
      await deps.cleanup();
    }
  });

  it('serve a record read before a database outage for at most STALE_IF_ERROR_MS past the TTL, and nothing for an id not read before', async () => {
    const { deps } = await oauthFixture();
    try {
      const target = breakable(deps.db);
      const cache = new ClientCache(target.db, 100, 1000, 400);
      expect((await cache.find('service'))?.id).toBe('service');
      target.down = true;
      await sleep(200); // past the TTL
      expect((await cache.find('service'))?.id).toBe('service');
      await expect(cache.find('rs')).rejects.toThrow('ECONNREFUSED');
      await sleep(400); // past TTL + the stale bound
      await expect(cache.find('service')).rejects.toThrow('ECONNREFUSED');
      target.down = false;
      expect((await cache.find('service'))?.id).toBe('service');
    } finally {
      await deps.cleanup();
    }
  });
});
