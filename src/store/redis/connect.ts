import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../../config/config';
import type { RedisClient } from './scripts';

export interface ConnectOptions {
  readonly keyPrefix: string;
  readonly connectTimeoutMs?: number;
  /** How long a command may go unanswered (a hung node) before it fails as an outage. */
  readonly commandTimeoutMs?: number;
}

/** Longer than any command of the stores takes, WAIT included (the service sets it above REDIS_WAIT_TIMEOUT_MS). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/**
 * The one Redis client every store shares, for the configured mode. Commands fail fast while
 * disconnected instead of queueing: an auth check that waits for Redis to return is worse than
 * a prompt 503 the caller can retry. In Sentinel mode the same holds during a failover: each
 * reconnect attempt asks the sentinels for the master again, so the client follows a promotion
 * by itself, and until then every command fails (store/redis/outage.ts makes that a 503). In
 * Cluster mode the client learns the slot map from the seed nodes and sends each command (each
 * script, each pipeline: the stores keep each in one slot) to the master that owns its slot,
 * following MOVED and ASK when slots move.
 */
export function connectRedis(settings: Extract<RedisSettings, { mode: 'standalone' | 'sentinel' }>, options: ConnectOptions): Redis;
export function connectRedis(settings: RedisSettings, options: ConnectOptions): RedisClient;
export function connectRedis(settings: RedisSettings, { keyPrefix, connectTimeoutMs = 2000, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS }: ConnectOptions): RedisClient {
  const failFast: RedisOptions = {
    keyPrefix,
    lazyConnect: true,
    // Single commands issued in one event-loop turn (by many requests at once) leave in one write
    // and come back in one read: the hot paths' reads batch across requests (redis-revocations.ts).
    // Two consequences. A single command goes out on the next turn, while an explicit pipeline or
    // MULTI goes at once: a caller must await a write before a pipeline that depends on it (all
    // do). And one batch is in flight at a time, so a command may wait for the batch before it:
    // WAIT (which holds its reply up to REDIS_WAIT_TIMEOUT_MS) and the readiness PING go alone,
    // and against a hung node a request fails within two command timeouts rather than one.
    // Not on a Cluster: ioredis routes a Cluster's auto-pipeline by the command's first argument,
    // which for the stores' scripts is the key count, not a key (redis/ioredis#2109).
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['wait', 'ping'],
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: connectTimeoutMs,
    // A node that is up but does not answer (stopped, swapping) would otherwise hold each
    // request for as long as it hangs.
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  };
  // Only what is set: ioredis fills options left undefined from the URL (its password, rediss:).
  const access: RedisOptions = {
    ...(settings.username !== undefined && { username: settings.username }),
    ...(settings.password !== undefined && { password: settings.password }),
    ...(settings.tls && { tls: {} }),
  };
  if (settings.mode === 'standalone') return new Redis(withAccess(settings.url, settings), { ...failFast, ...access });
  if (settings.mode === 'cluster') {
    return new Cluster(
      settings.nodes.map(({ host, port }) => ({ host, port })),
      {
        keyPrefix,
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
        // A command that meets a failover (a master gone, CLUSTERDOWN) is retried a little
        // while the cluster promotes a replica, then fails: a 503 rather than a hung request.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        maxRedirections: 8,
        slotsRefreshTimeout: connectTimeoutMs,
        redisOptions: { connectTimeout: connectTimeoutMs, commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1, ...access },
      },
    );
  }
  return new Redis({
    ...failFast,
    ...access,
    sentinels: settings.sentinels.map(({ host, port }) => ({ host, port })),
    name: settings.name,
    ...(settings.sentinelPassword !== undefined && { sentinelPassword: settings.sentinelPassword }),
    // One switch for both hops: sentinels and data nodes of one deployment share a transport.
    ...(settings.tls && { sentinelTLS: {}, enableTLSForSentinelMode: true }),
  });
}

/**
 * REDIS_USERNAME and REDIS_PASSWORD take precedence over credentials written in REDIS_URL, as
 * README says: ioredis prefers the URL's, so a rotated password or a least-privilege ACL user set
 * through the variables would silently not apply.
 */
function withAccess(url: string, { username, password }: { readonly username: string | undefined; readonly password: string | undefined }): string {
  if (username === undefined && password === undefined) return url;
  const parsed = new URL(url);
  if (username !== undefined) parsed.username = encodeURIComponent(username);
  if (password !== undefined) parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster;
}
