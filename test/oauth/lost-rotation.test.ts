import request from 'supertest';
import { createApp } from '../../src/http/app';
import { keys } from '../../src/store/redis/keys';
import { createRedisClient, redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import type { TestDeps } from '../support/deps';
import { missingBackend, rawRedis, redisUrl, uniqueName } from '../support/env';
import { oauthFixture } from '../support/oauth-fixture';

// What a client sees when Redis loses a rotation: replication is asynchronous, so a replica
// promoted by a failover may lack the last writes its master acknowledged. Here the family is put
// back to its state before the rotation (DUMP, then RESTORE: exactly what such a replica holds),
// and the client carries on with the token the lost rotation gave it.

if (!redisUrl()) {
  missingBackend('a real Redis');
} else {
  describe('a rotation lost in a Redis failover', () => {
    let deps: TestDeps;
    let stores: RedisTokenStores;
    const prefix = `${uniqueName('lost')}:`;
    const redis = rawRedis();

    beforeAll(async () => {
      ({ deps } = await oauthFixture({}, { store: 'memory' }));
      stores = redisTokenStores(createRedisClient({ url: redisUrl()!, keyPrefix: prefix }));
      await stores.storage.connect();
    });
    afterAll(async () => {
      redis.disconnect();
      await stores.storage.close();
      await deps.cleanup();
    });

    it('costs the client its login (invalid_grant), never a false theft alarm', async () => {
      const app = createApp({ ...deps, ...stores });
      const post = (form: Record<string, string>) => request(app.callback()).post('/oauth/token').type('form').send(form);
      const login = await post({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
      const first = login.body.refresh_token as string;
      const familyKey = `${prefix}${keys.family(first.split('.')[0]!)}`;
      const before = await redis.dumpBuffer(familyKey);
      expect(before).not.toBeNull();

      const rotated = await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first });
      expect(rotated.status).toBe(200);
      // The failover: the promoted replica never saw the rotation.
      await redis.restore(familyKey, 0, before!, 'REPLACE');

      const next = await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: rotated.body.refresh_token });
      expect({ status: next.status, error: next.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
      // An unknown secret is a guess, not a reuse: the family is not revoked, nothing is audited
      // as theft, and the token of before the rotation (which the client no longer holds) still rotates.
      expect(await redis.hget(familyKey, 'state')).toBe('active');
      expect(deps.logs.events('refresh.reuse_detected')).toEqual([]);
      expect((await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })).status).toBe(200);
    });
  });
}
