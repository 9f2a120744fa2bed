import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { Cluster, Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/config';
import { createDatabase, type Database, type DatabaseTarget } from '../../src/db/database';
import { migrateLatest } from '../../src/db/migrate';
import type { StoreConnection, TokenStores } from '../../src/store/connection';
import { memoryTokenStores } from '../../src/store/memory/memory-store';
import { connectRedis } from '../../src/store/redis/connect';
import { createRedisClient, redisTokenStores } from '../../src/store/redis/redis-store';
import type { ThrottleStore } from '../../src/store/throttle';
import { MemoryThrottleStore } from '../../src/store/memory/memory-throttle';
import { RedisThrottleStore } from '../../src/store/redis/redis-throttle';
import type { RedisNode } from './redis-topologies';

export const redisUrl = (): string | undefined => process.env.TEST_REDIS_URL;
const nodeList = (nodes: string): RedisNode[] =>
  nodes.split(',').map((entry) => {
    const colon = entry.lastIndexOf(':');
    return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
  });

/** The shared Redis Cluster's seed nodes (global-setup.ts), or undefined when this run has none. */
export function redisClusterNodes(): RedisNode[] | undefined {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES;
  return nodes ? nodeList(nodes) : undefined;
}

/** The shared Sentinel deployment (global-setup.ts): its sentinels, master name, and the master
 *  and replica it started with (nothing fails it over); undefined when this run has none. */
export function redisSentinel(): { sentinels: RedisNode[]; name: string; master: RedisNode; replica: RedisNode } | undefined {
  const sentinels = process.env.TEST_REDIS_SENTINELS;
  const name = process.env.TEST_REDIS_SENTINEL_NAME;
  const [master, replica] = nodeList(process.env.TEST_REDIS_SENTINEL_DATA ?? '');
  return sentinels && name && master && replica ? { sentinels: nodeList(sentinels), name, master, replica } : undefined;
}
export const postgresUrl = (): string | undefined => process.env.TEST_DATABASE_URL;

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

export function tempDir(prefix = 'portcullis-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * What a test file declares instead of its tests when this run lacks a backend they need (a
 * local run without redis-server, say): one test that passes outside CI and fails with CI=true,
 * where every backend must be there. Never a skip.
 */
export function missingBackend(what: string): void {
  it(`needs ${what}, which only a run outside CI may lack`, () => {
    expect(process.env.CI).not.toBe('true');
  });
}

/** A config as the service would load it, with quiet, test-friendly defaults. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  // Throttling of failed credentials is off unless a test turns it on: many tests fail a
  // password on purpose, and their subject is not the throttle (test/oauth/throttling.test.ts is).
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', DATA_DIR: tempDir(), LOGIN_FAILURES_BEFORE_DELAY: '0', ADDRESS_FAILURES_PER_HOUR: '0', ACCOUNT_FAILURES_ALERT: '0', ...overrides });
}

/** A token-store backend: the in-process one, standalone Redis, or the shared Redis Cluster. */
export type StoreKind = StoreConnection['kind'] | 'redis-cluster' | 'redis-sentinel';
export type DatabaseKind = DatabaseTarget['kind'];

/** Every token-store backend this run can reach: the in-process one always, Redis and the
 *  cluster when up. Standalone Redis comes last: it is the default of oauthFixture. */
export function storeKinds(): StoreKind[] {
  return ['memory', ...(redisClusterNodes() ? (['redis-cluster'] as const) : []), ...(redisUrl() ? (['redis'] as const) : [])];
}

/** The backends the store contracts run on: every one above, and Redis through Sentinel. */
export function storeContractKinds(): StoreKind[] {
  return [...storeKinds(), ...(redisSentinel() ? (['redis-sentinel'] as const) : [])];
}

/** The shared Redis deployments a test can run the service's own client on, by topology. */
export type RedisTopology = 'standalone' | 'cluster';

/** The topologies this run has a Redis for (global-setup.ts). */
export function redisTopologies(): RedisTopology[] {
  return [...(redisUrl() ? (['standalone'] as const) : []), ...(redisClusterNodes() ? (['cluster'] as const) : [])];
}

/** How a test reaches the shared deployment of a topology. */
export function topologyTarget(topology: RedisTopology): RedisTarget {
  return sharedTarget(topology === 'cluster' ? 'redis-cluster' : 'redis');
}

/** How a test reaches the shared deployment of a Redis kind. */
export function sharedTarget(kind: Exclude<StoreKind, 'memory'>): RedisTarget {
  if (kind === 'redis-cluster') {
    const nodes = redisClusterNodes();
    if (!nodes) throw new Error('no Redis Cluster for this run');
    return { mode: 'cluster', nodes };
  }
  if (kind === 'redis-sentinel') {
    const sentinel = redisSentinel();
    if (!sentinel) throw new Error('no Redis Sentinel for this run');
    return { mode: 'sentinel', sentinels: sentinel.sentinels, name: sentinel.name };
  }
  const url = redisUrl();
  if (!url) throw new Error('no Redis for this run');
  return { mode: 'standalone', url };
}

/** Every database backend this run can reach: PGlite always, PostgreSQL when up. */
export function databaseKinds(): DatabaseKind[] {
  return postgresUrl() ? ['pglite', 'postgres'] : ['pglite'];
}

/** The token-state stores (families, revocations) on one backend; `storage.close()` ends them. */
export async function createTestStores(kind: StoreKind): Promise<TokenStores> {
  return (await createTestBackend(kind)).stores;
}

/**
 * The token stores and the throttle store on the run's backend of that kind, sharing one
 * connection as the service's do (store/create-store.ts); closing the stores' connection closes
 * the throttle's. A fresh key prefix per connection keeps parallel test files apart.
 */
export async function createTestBackend(kind: StoreKind): Promise<{ stores: TokenStores; throttle: ThrottleStore }> {
  if (kind === 'memory') return { stores: memoryTokenStores(), throttle: new MemoryThrottleStore() };
  const redis = await connectTestRedis(sharedTarget(kind), uniqueName('t') + ':');
  return { stores: redisTokenStores(redis), throttle: new RedisThrottleStore(redis) };
}

/** Where a Redis-backed store lives: the shared standalone server (a URL), or a deployment a
 *  test file started itself (test/support/redis-topologies.ts). */
export type RedisTarget =
  | { readonly mode: 'standalone'; readonly url: string }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisNode[] }
  | { readonly mode: 'sentinel'; readonly sentinels: readonly RedisNode[]; readonly name: string };

/** A connected client on the target, set up like the service's own (createRedisClient): no
 *  offline queue and one retry per command, so the tests see the failures the service would. */
export async function connectTestRedis(target: RedisTarget, keyPrefix: string): Promise<Redis | Cluster> {
  if (target.mode === 'standalone') {
    const redis = createRedisClient({ url: target.url, keyPrefix });
    await redis.connect();
    return redis;
  }
  if (target.mode === 'cluster') {
    // The service's own constructor for Cluster mode.
    const cluster = connectRedis({ mode: 'cluster', nodes: target.nodes, username: undefined, password: undefined, tls: false }, { keyPrefix });
    await cluster.connect();
    return cluster;
  }
  // The service's own constructor for Sentinel mode (store/redis/connect.ts).
  const redis = connectRedis({ mode: 'sentinel', sentinels: target.sentinels, name: target.name, username: undefined, password: undefined, sentinelPassword: undefined, tls: false }, { keyPrefix });
  await redis.connect();
  return redis;
}

/** Throttling state on the run's backend of that kind (Redis: its own connection and key prefix). */
export async function createTestThrottle(kind: StoreKind): Promise<{ throttle: ThrottleStore; close(): Promise<void> }> {
  if (kind === 'memory') return { throttle: new MemoryThrottleStore(), close: async () => undefined };
  const redis = await connectTestRedis(sharedTarget(kind), uniqueName('th') + ':');
  return { throttle: new RedisThrottleStore(redis), close: async () => void (await redis.quit()) };
}

/** A raw client on the test Redis, for looking at what the store wrote. */
export function rawRedis(url = redisUrl()): Redis {
  if (!url) throw new Error('no Redis for this run');
  return new Redis(url);
}

/** A new, empty database: an in-memory PGlite, or a fresh database on the test PostgreSQL. */
export async function createTestDatabase(kind: DatabaseKind, { migrate = true } = {}): Promise<{ db: Database; url?: string; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = createDatabase({ kind: 'pglite', dir: 'memory' });
    if (migrate) await migrateLatest(db);
    return { db, drop: async () => db.destroy() };
  }
  const adminUrl = postgresUrl();
  if (!adminUrl) throw new Error('no PostgreSQL for this run');
  const name = uniqueName('t_');
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDatabase({ kind: 'postgres', url: url.toString() });
  if (migrate) await migrateLatest(db);
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await db.destroy();
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.destroy();
    },
  };
}
