import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createRedisClient, redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import type { TestDeps } from '../support/deps';
import { redisUrl, uniqueName } from '../support/env';
import { until } from '../support/process';
import { monitorRedis } from '../support/redis-monitor';
import { oauthFixture } from '../support/oauth-fixture';

// The rotation budget, counted on the wire: Redis MONITOR sees every command the service sends.

if (!redisUrl()) {
  it('needs a real Redis, which only a run outside CI may lack', () => {
    expect(process.env.CI).not.toBe('true');
  });
} else {
  describe('refresh rotation on Redis', () => {
    let deps: TestDeps;
    let stores: RedisTokenStores;
    /** The service's own connection, as MONITOR names it ("host:port"). */
    let source: string;
    const prefix = `${uniqueName('rt')}:`;

    beforeAll(async () => {
      ({ deps } = await oauthFixture({}, { store: 'memory' }));
      const client = createRedisClient({ url: redisUrl()!, keyPrefix: prefix });
      stores = redisTokenStores(client);
      await stores.storage.connect();
      const socket = client.stream as { localAddress?: string; localPort?: number };
      source = `${socket.localAddress}:${socket.localPort}`;
    });
    afterAll(async () => {
      await stores.storage.close();
      await deps.cleanup();
    });

    it('is one Redis command (one round trip) per rotation', async () => {
      const app = createApp({ ...deps, ...stores });
      const post = (form: Record<string, string>) => request(app.callback()).post('/oauth/token').type('form').send(form);
      let token = (await post({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' })).body.refresh_token as string;
      // The first use loads the script (EVALSHA, NOSCRIPT, EVAL); count from the second.
      token = (await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: token })).body.refresh_token as string;

      const monitor = await monitorRedis(redisUrl()!);
      try {
        for (let i = 0; i < 5; i += 1) {
          const res = await post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
          expect(res.status).toBe(200);
          token = res.body.refresh_token;
        }
        // The feed trails the commands a little: wait for the last rotation's script to show.
        await until(() => monitor.commands.filter((c) => c.source === source).length >= 5, 5000).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        monitor.stop();
      }
      // Only what the service sent: other suites share this Redis (and may read these keys), and
      // the commands a script runs inside Redis show up with source 'lua': not round trips.
      const seen = monitor.commands.filter((c) => c.source === source).map((c) => c.command);
      expect(seen).toEqual(Array(5).fill('evalsha'));
    });
  });
}
