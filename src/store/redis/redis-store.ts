import type { Redis } from 'ioredis';
import { withTimeout } from '../../async';
import type { CommandObserver, StoreConnection, TokenStores } from '../connection';
import { timeCommands } from './command-timing';
import { connectRedis, isCluster } from './connect';
import { systemClock, type Clock } from '../../clock';
import { Generations, type DataLoss } from './generations';
import type { Durability } from './durability';
import type { RedisLayout } from './layout';
import { RedisBrowserSessions } from './redis-browser-sessions';
import { RedisCodes } from './redis-codes';
import { RedisFamilies } from './redis-families';
import { RedisRevocations } from './redis-revocations';
import type { RedisClient } from './scripts';

export interface RedisStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly connectTimeoutMs?: number;
}

/** A standalone client from a URL (tests and tools); the service itself uses connectRedis. */
export function createRedisClient({ url, keyPrefix, connectTimeoutMs }: RedisStoreOptions): Redis {
  return connectRedis({ mode: 'standalone', url, username: undefined, password: undefined, tls: false }, { keyPrefix, ...(connectTimeoutMs !== undefined && { connectTimeoutMs }) });
}

const CLUSTER_SLOTS = 16_384;

/** The one Redis connection every store shares, as readiness and shutdown see it. */
export class RedisConnection implements StoreConnection {
  readonly kind = 'redis' as const;

  constructor(private readonly redis: RedisClient) {}

  /** Connects, waiting at most the client's connect timeout. A failure is not fatal: the
   *  client keeps retrying in the background and /readyz reports the outage meanwhile. */
  async connect(timeoutMs = 5000): Promise<void> {
    if (this.redis.status !== 'wait') return;
    // Bounded: in Sentinel mode a wrong master name, an unreachable sentinel or a TLS mismatch
    // makes ioredis retry the sentinels forever, and the service must still start (and answer
    // 503 with /readyz down) rather than hang without listening.
    await withTimeout(this.redis.connect(), timeoutMs);
  }

  /**
   * On a cluster: the cluster serves all its slots, and the master of each answers. (A PING alone
   * reaches one node, which answers even while the cluster is down; and the client drops a dead
   * master from its connections while the cluster still assigns it slots.)
   */
  async ping(): Promise<void> {
    if (!isCluster(this.redis)) {
      await this.redis.ping();
      return;
    }
    const state = /cluster_state:(\w+)/.exec(String(await this.redis.cluster('INFO')))?.[1];
    if (state !== 'ok') throw new Error(`redis cluster state is ${state ?? 'unknown'}`);
    const connected = new Map(this.redis.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    const owners = new Set<string | undefined>();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot += 1) owners.add(this.redis.slots[slot]?.[0]);
    await Promise.all(
      [...owners].map((owner) => {
        const node = owner === undefined ? undefined : connected.get(owner);
        if (!node) throw new Error(owner === undefined ? 'a redis cluster slot has no master' : `redis cluster master ${owner} is not connected`);
        return node.ping();
      }),
    );
  }

  observeCommands(observer: CommandObserver): () => void {
    return timeCommands(this.redis, observer);
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

export interface RedisTokenStores extends TokenStores {
  readonly storage: RedisConnection;
  /** The markers that reveal a loss of data (tests await their first check). */
  readonly generations: Generations;
}

export interface DataLossWatch {
  /** Dates a new generation (generations.ts); the service's clock, so tokens compare with it. */
  readonly clock?: Clock;
  /** Told once per loss this instance finds (the service logs `redis.data_lost`). */
  readonly onDataLost?: (loss: DataLoss) => void;
}

/**
 * The token-state stores, each on the given (shared) connection. The keys of the layout before
 * user tags are kept in use on one node (standalone, Sentinel), never on a cluster.
 */
export function redisTokenStores(redis: RedisClient, durability?: Durability, watch: DataLossWatch = {}): RedisTokenStores {
  const layout: RedisLayout = { keyPrefix: redis.options.keyPrefix ?? '', legacy: !isCluster(redis) };
  const generations = new Generations(redis, watch.clock ?? systemClock, watch.onDataLost ?? (() => undefined));
  return {
    storage: new RedisConnection(redis),
    generations,
    families: new RedisFamilies(redis, layout, durability),
    revocations: new RedisRevocations(redis, layout, generations, durability),
    codes: new RedisCodes(redis, durability),
    browserSessions: new RedisBrowserSessions(redis, layout, durability),
  };
}
