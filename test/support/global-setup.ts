import { commandExists, postgresAvailable, startPostgres, startRedis } from './backends';
import { startRedisCluster, startRedisSentinel } from './redis-topologies';

// Real backends for the whole run. REDIS_URL / DATABASE_URL, when set, name servers to use (CI
// starts its own); otherwise throwaway ones are started from local binaries. With CI=true a
// missing backend fails the run: a suite that silently skipped Redis would prove nothing.

declare global {
  // eslint-disable-next-line no-var
  var __portcullisBackends: Array<{ destroy(): Promise<void> }> | undefined;
}

export default async function globalSetup(): Promise<void> {
  const ci = process.env.CI === 'true';
  const started: Array<{ destroy(): Promise<void> }> = [];
  const missing: string[] = [];

  if (process.env.REDIS_URL) process.env.TEST_REDIS_URL = process.env.REDIS_URL;
  else if (commandExists('redis-server')) {
    const redis = await startRedis();
    started.push(redis);
    process.env.TEST_REDIS_URL = redis.url;
  } else missing.push('Redis (set REDIS_URL or install redis-server)');

  // One three-master Redis Cluster for the whole run: the store contracts and the OAuth flows
  // run on it beside standalone Redis (test/support/env.ts storeKinds).
  if (process.env.REDIS_CLUSTER_NODES) process.env.TEST_REDIS_CLUSTER_NODES = process.env.REDIS_CLUSTER_NODES;
  else if (commandExists('redis-server') && commandExists('redis-cli')) {
    const cluster = await startRedisCluster();
    started.push(cluster);
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  } else missing.push('Redis Cluster (set REDIS_CLUSTER_NODES or install redis-server and redis-tools)');

  // And one master, replica and sentinel, for the store contracts through Sentinel (failover
  // tests start their own: they kill the master).
  if (commandExists('redis-server') && commandExists('redis-cli')) {
    const sentinel = await startRedisSentinel();
    started.push(sentinel);
    process.env.TEST_REDIS_SENTINELS = sentinel.sentinels.map(({ host, port }) => `${host}:${port}`).join(',');
    process.env.TEST_REDIS_SENTINEL_NAME = sentinel.name;
    process.env.TEST_REDIS_SENTINEL_DATA = [sentinel.master, sentinel.replica].map(({ host, port }) => `${host}:${port}`).join(',');
  } else missing.push('Redis Sentinel (install redis-server, redis-tools and redis-sentinel)');

  if (process.env.DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
  else if (postgresAvailable()) {
    const postgres = await startPostgres();
    started.push(postgres);
    process.env.TEST_DATABASE_URL = postgres.url;
  } else missing.push('PostgreSQL (set DATABASE_URL or install PostgreSQL server binaries)');

  globalThis.__portcullisBackends = started;
  if (missing.length > 0) {
    if (ci) {
      await Promise.all(started.map((backend) => backend.destroy()));
      throw new Error(`CI=true requires real backends; missing: ${missing.join('; ')}`);
    }
    process.stderr.write(`\n[portcullis tests] running without: ${missing.join('; ')}. Only the embedded backends are tested.\n`);
  }
  // Tests must never pick up the shared servers through the service's own variables.
  delete process.env.REDIS_URL;
  delete process.env.REDIS_CLUSTER_NODES;
  delete process.env.DATABASE_URL;
}
