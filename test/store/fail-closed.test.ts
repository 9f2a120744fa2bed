import { createLogger } from '../../src/logging/logger';
import { createTokenStores } from '../../src/store/create-store';
import { failClosed } from '../../src/store/fail-closed';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../../src/store/redis/connect';
import { redisOutage } from '../../src/store/redis/outage';
import { createRedisClient } from '../../src/store/redis/redis-store';
import { StoreUnavailableError } from '../../src/store/unavailable';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '../support/backends';
import { rawRedis, testConfig, uniqueName } from '../support/env';
import { until } from '../support/process';

// The store boundary decides what an outage is, so nothing above it knows the backend's errors.

describe('failClosed: outages become StoreUnavailableError, everything else passes through', () => {
  const outage = new Error('backend down');
  const bug = new TypeError('a bug');
  const store = failClosed(
    {
      kind: 'test' as const,
      down: async (): Promise<number> => Promise.reject(outage),
      broken: async (): Promise<number> => Promise.reject(bug),
      throwsAtOnce: (): number => {
        throw outage;
      },
      answers: async (value: number): Promise<number> => value,
    },
    (error) => error === outage,
  );

  it('names the failed operation and keeps the cause', async () => {
    const error: unknown = await store.down().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ operation: 'down', reason: 'backend down', cause: outage });
    expect(() => store.throwsAtOnce()).toThrow(StoreUnavailableError);
  });

  it('leaves other failures alone (a bug stays a 500) and answers unchanged', async () => {
    await expect(store.broken()).rejects.toBe(bug);
    await expect(store.answers(7)).resolves.toBe(7);
    expect(store.kind).toBe('test');
  });
});

describe('redisOutage against real Redis', () => {
  it('a reply from the server is an answer, not an outage', async () => {
    const raw = rawRedis();
    try {
      const key = uniqueName('outage-test:');
      await raw.set(key, 'text', 'EX', 60);
      const reply: unknown = await raw.hget(key, 'field').catch((thrown: unknown) => thrown);
      expect((reply as Error).name).toBe('ReplyError');
      expect(redisOutage(raw)(reply)).toBe(false);
    } finally {
      raw.disconnect();
    }
  });

  it('a full Redis under noeviction (OOM) is an outage: a revocation is refused loudly (503), not lost', async () => {
    const server = await startRedis();
    const raw = new Redis(server.url);
    try {
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
      await raw.config('SET', 'maxmemory', '1');
      const reply: unknown = await raw.set('k', 'v').catch((thrown: unknown) => thrown);
      expect((reply as Error).message).toMatch(/^OOM/);
      expect(redisOutage(raw)(reply)).toBe(true);
    } finally {
      raw.disconnect();
      await server.destroy();
    }
  });

  it('a Redis that is up but does not answer (a hung process) is an outage within the command timeout, not a hung request', async () => {
    const server = await startRedis();
    const client = createRedisClient({ url: server.url, keyPrefix: 'x:' });
    const raw = new Redis(server.url);
    const pid = Number(/process_id:(\d+)/.exec(await raw.info('server'))?.[1]);
    raw.disconnect();
    try {
      await client.connect();
      process.kill(pid, 'SIGSTOP');
      const started = Date.now();
      const error: unknown = await client.get('k').catch((thrown: unknown) => thrown);
      expect(Date.now() - started).toBeLessThan(DEFAULT_COMMAND_TIMEOUT_MS + 1000);
      expect((error as Error).message).toBe('Command timed out');
      expect(redisOutage(client)(error)).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
      client.disconnect();
      await server.destroy();
    }
  });

  it('a command refused while the connection was down is an outage, also when the client is ready again by the time it is judged', async () => {
    const server = await startRedis();
    const client = createRedisClient({ url: server.url, keyPrefix: 'x:' });
    const raw = new Redis(server.url);
    try {
      await client.connect();
      await raw.client('KILL', 'ID', String(await client.client('ID')));
      await until(() => client.status !== 'ready', 5000);
      // Issued while reconnecting (no offline queue): refused without being sent.
      const error: unknown = await client.get('k').catch((thrown: unknown) => thrown);
      await until(() => client.status === 'ready', 5000);
      // Outside round: the request's error handler judged it after the quick reconnect (a 500).
      expect((error as Error).message).toMatch(/enableOfflineQueue/);
      expect(redisOutage(client)(error)).toBe(true);
    } finally {
      raw.disconnect();
      client.disconnect();
      await server.destroy();
    }
  });

  it('a command to a Redis that is not there is an outage', async () => {
    const client = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'x:' });
    try {
      await client.connect().catch(() => undefined);
      const error: unknown = await client.get('k').catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(Error);
      expect(redisOutage(client)(error)).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describe('the service\'s token stores fail closed, each of them', () => {
  it('with Redis not there, every store answers StoreUnavailableError (503), codes and browser sessions included', async () => {
    const stores = await createTokenStores(testConfig({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }), createLogger('silent'));
    try {
      const now = Date.now();
      const calls: Array<Promise<unknown>> = [
        stores.families.getFamily('f', now),
        stores.revocations.revocationState('j', 'u', Math.floor(now / 1000)),
        stores.codes.redeemCode('c', 60_000, now),
        stores.browserSessions.touchBrowserSession('s', 60_000, now),
        stores.browserSessions.endUserBrowserSessions('u', now),
      ];
      for (const call of calls) await expect(call).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await stores.storage.close();
    }
  });
});
