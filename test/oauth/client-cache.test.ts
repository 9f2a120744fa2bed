import request from 'supertest';
import { rotateClientSecret } from '../../src/identity/client-secret-store';
import { basic, oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';

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
});
