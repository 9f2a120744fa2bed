import net from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { until } from './process';
import type { RedisNode } from './redis-topologies';

export interface MonitoredCommand {
  /** The server that ran it ("host:port"). */
  readonly node: string;
  /** The client that sent it, as Redis names it ("host:port"), or "lua" for a script's calls. */
  readonly source: string;
  /** The command name, lower-case. */
  readonly command: string;
  /** Its arguments, as the feed quotes them (escapes such as \" left in). */
  readonly args: readonly string[];
}

export interface Monitor {
  /** Every command seen so far, in the order each server's feed delivered it. */
  readonly commands: MonitoredCommand[];
  stop(): void;
}

const ARGUMENT = /"((?:[^"\\]|\\.)*)"/g;

/**
 * Redis MONITOR on a plain socket. (ioredis's monitor mode can lose track of its command queue
 * when the feed is busy, as it is while other suites share the server.) Each feed line is
 * `+<time> [<db> <source>] "<command>" "<arg>" ...`. Commands are appended to `commands`.
 */
export async function monitorRedis({ host, port }: RedisNode, commands: MonitoredCommand[] = []): Promise<Monitor> {
  const node = `${host}:${port}`;
  const socket = net.connect({ host, port });
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line === '+OK') resolve();
        const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
        if (!match) continue;
        const [command, ...args] = [...match[2]!.matchAll(ARGUMENT)].map((argument) => argument[1]!);
        if (command !== undefined) commands.push({ node, source: match[1]!, command: command.toLowerCase(), args });
      }
    });
    socket.write('MONITOR\r\n');
  });
  return { commands, stop: () => socket.destroy() };
}

/** MONITOR on each of `nodes` (a cluster's masters), into one list; each command names its node. */
export async function monitorRedisNodes(nodes: readonly RedisNode[]): Promise<Monitor> {
  const commands: MonitoredCommand[] = [];
  const monitors: Monitor[] = [];
  try {
    for (const node of nodes) monitors.push(await monitorRedis(node, commands));
  } catch (error) {
    for (const monitor of monitors) monitor.stop();
    throw error;
  }
  return { commands, stop: () => monitors.forEach((monitor) => monitor.stop()) };
}

/**
 * The connections a client sends its commands on, as MONITOR names their sources: the one of a
 * standalone client, or one per master of a cluster client (ioredis opens them lazily: each is
 * opened here with a PING). The cluster client's slot-map refreshes use other, short-lived
 * connections: not the service's commands.
 */
export async function commandConnections(redis: Redis | Cluster): Promise<Map<string, net.Socket>> {
  const clients = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  await Promise.all(clients.map((client) => client.ping()));
  const connections = new Map<string, net.Socket>();
  for (const client of clients) {
    const socket = client.stream as net.Socket;
    connections.set(`${socket.localAddress}:${socket.localPort}`, socket);
  }
  return connections;
}

/**
 * Counts what a client writes on each of its connections: each write is one round trip out (a
 * pipeline is written whole, in one write). Undone by `stop()`.
 */
export function countWrites(connections: ReadonlyMap<string, net.Socket>): { readonly writes: string[]; stop(): void } {
  const writes: string[] = [];
  const restore: Array<() => void> = [];
  for (const [source, socket] of connections) {
    const write = socket.write;
    socket.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
      writes.push(source);
      return write.apply(this, args);
    } as net.Socket['write'];
    restore.push(() => {
      socket.write = write;
    });
  }
  return { writes, stop: () => restore.forEach((undo) => undo()) };
}

/**
 * The commands `sources` sent while `step` ran, as the feed shows them. The feed trails the
 * commands a little: this waits until `expected` of them showed up, then a little longer for any
 * beyond. A command that shows up later still is counted in the next step's, which then differs.
 */
export async function commandsDuring(monitor: Monitor, sources: ReadonlySet<string>, expected: number, step: () => Promise<void>): Promise<MonitoredCommand[]> {
  const ours = () => monitor.commands.filter((command) => sources.has(command.source));
  const before = ours().length;
  await step();
  await until(() => ours().length >= before + expected, 5000).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return ours().slice(before);
}
