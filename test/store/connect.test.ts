import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { createStores } from '../../src/store/create-store';
import { connectRedis } from '../../src/store/redis/connect';
import { freePort } from '../support/backends';
import { redisUrl, tempDir } from '../support/env';
import { LogCapture } from '../support/logs';
import { until } from '../support/process';

// Found by the outside review of this release's settings.
describe('connecting to Redis', () => {
  it('REDIS_USERNAME and REDIS_PASSWORD take precedence over credentials in REDIS_URL', () => {
    const redis = connectRedis({ mode: 'standalone', url: 'redis://default:from-url@127.0.0.1:6379/0', username: 'svc', password: 'from-variable', tls: false }, { keyPrefix: 'x:' });
    try {
      expect(redis.options).toMatchObject({ username: 'svc', password: 'from-variable' });
    } finally {
      redis.disconnect();
    }
  });

  it('starts within a bound when no sentinel answers, instead of hanging before it listens', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: tempDir(), REDIS_MODE: 'sentinel', REDIS_SENTINELS: `127.0.0.1:${await freePort()}`, REDIS_SENTINEL_NAME: 'nosuch' });
    const started = Date.now();
    const stores = await createStores(config, createLogger('silent'));
    try {
      expect(Date.now() - started).toBeLessThan(15_000);
      await expect(stores.storage.ping()).rejects.toThrow();
    } finally {
      await stores.storage.close();
    }
  }, 30_000);

  it('says why a cluster seed refuses: the node\'s own reply, not only "Failed to refresh slots cache"', async () => {
    // A standalone Redis given as a cluster seed (a common mistake), as the outside review tried.
    const url = new URL(redisUrl()!);
    const logs = new LogCapture();
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR: tempDir(), REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: `${url.hostname}:${url.port}` });
    const stores = await createStores(config, createLogger('warn', logs));
    try {
      // Logged once, as the outage's reason (redis.error per retry is at debug).
      await until(() => logs.events('redis.unavailable').some((line) => JSON.stringify(line).includes('cluster support disabled')), 10_000, { what: 'the node\'s reply in redis.unavailable' });
    } finally {
      await stores.storage.close();
    }
  }, 30_000);
});

