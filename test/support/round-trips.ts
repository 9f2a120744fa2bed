import type { Cluster, Redis } from 'ioredis';
import { redisTokenStores, type RedisTokenStores } from '../../src/store/redis/redis-store';
import { userTag } from '../../src/store/user-tag';
import { connectTestRedis, redisUrl, topologyTarget, uniqueName, type RedisTopology } from './env';
import { until } from './process';
import { commandConnections, commandsDuring, countWrites, monitorRedisNodes, type Monitor } from './redis-monitor';

// Counting the service's Redis round trips on the wire, on standalone Redis or on every master
// of the shared cluster. MONITOR on each server says which node received which commands from the
// service's own connections; a count of the writes on those connections says in how many round
// trips they went (ioredis writes a pipeline whole, in one write).

/** What one step cost: the nodes it reached, its commands ("name arg ..."), the writes it took. */
export interface Trip {
  readonly nodes: string[];
  readonly commands: string[];
  readonly writes: number;
}

export interface WireProbe {
  /** The token stores, on their own client: what the service's requests go through. */
  readonly stores: RedisTokenStores;
  /** The client's key prefix (unique to the probe, so keys name this test's tokens). */
  readonly prefix: string;
  /** The servers watched ("host:port"): the standalone one, or every master of the cluster. */
  readonly nodes: readonly string[];
  /** The node that owns a key (given without the prefix). */
  ownerOf(key: string): Promise<string>;
  /** Runs `step`; what the stores' client sent meanwhile, once `expected` commands showed up. */
  measure(expected: number, step: () => Promise<void>): Promise<Trip>;
  close(): Promise<void>;
}

export async function wireProbe(topology: RedisTopology): Promise<WireProbe> {
  const prefix = `${uniqueName('wire')}:`;
  const redis = await connectTestRedis(topologyTarget(topology), prefix);
  const stores = redisTokenStores(redis);
  // The first check of the generation markers (1,024 keys) is not the hot path's to pay.
  await stores.generations.verify();
  const connections = await commandConnections(redis);
  const cluster = redis.isCluster ? (redis as Cluster) : undefined;
  const url = new URL(redisUrl() ?? 'redis://unused');
  const servers = cluster ? cluster.nodes('master').map((node) => ({ host: node.options.host!, port: node.options.port! })) : [{ host: url.hostname, port: Number(url.port || 6379) }];
  const monitor: Monitor = await monitorRedisNodes(servers);
  const nodes = servers.map(({ host, port }) => `${host}:${port}`);
  return {
    stores,
    prefix,
    nodes,
    async ownerOf(key) {
      if (!cluster) return nodes[0]!;
      const owner = cluster.slots[Number(await cluster.cluster('KEYSLOT', key))]?.[0];
      if (!owner) throw new Error(`no master owns ${key}`);
      return owner;
    },
    async measure(expected, step) {
      // A barrier first: a PING on each connection shows up in its node's feed after everything
      // the client sent before (a login's script, say), which the feed may still be trailing.
      const clients = cluster ? cluster.nodes('master') : [redis as Redis];
      const pings = () => monitor.commands.filter((c) => c.command === 'ping' && connections.has(c.source)).length;
      const pinged = pings() + clients.length;
      await Promise.all(clients.map((client) => client.ping()));
      await until(() => pings() >= pinged, 5000);
      const writes = countWrites(connections);
      try {
        const seen = await commandsDuring(monitor, new Set(connections.keys()), expected, step);
        return { nodes: [...new Set(seen.map((c) => c.node))], commands: seen.map((c) => [c.command, ...c.args].join(' ')), writes: writes.writes.length };
      } finally {
        writes.stop();
      }
    },
    async close() {
      monitor.stop();
      await stores.storage.close();
    },
  };
}

/**
 * Registers `count` users, each on a node no earlier one is on until every node has one, so that
 * a test of every user's tokens reaches every master of the cluster (on standalone: the first).
 */
export async function usersOnDistinctNodes<U extends { readonly id: string }>(probe: WireProbe, count: number, register: (index: number) => Promise<U>): Promise<U[]> {
  const owners = new Set<string>();
  const users: U[] = [];
  for (let i = 0; users.length < count; i += 1) {
    if (i >= 50) throw new Error(`no ${count} users on distinct nodes in ${i} tries`);
    const user = await register(i);
    const owner = await probe.ownerOf(`{u:${userTag(user.id)}}`);
    if (owners.has(owner) && owners.size < probe.nodes.length) continue;
    owners.add(owner);
    users.push(user);
  }
  return users;
}
