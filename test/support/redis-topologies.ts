import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { commandExists, freePort, waitForExit, waitForPort } from './backends';
import { until } from './process';

// Throwaway Redis Cluster and Sentinel deployments on loopback, for the store contracts: several
// redis-server processes per deployment, in one temp dir. Each process logs to a file there, so a
// failed start can say why; every wait is bounded.

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisClusterBackend {
  /** The masters, in the order their slot ranges were assigned. */
  readonly nodes: readonly RedisNode[];
  /** Kills one master (SIGKILL; there is no replica to promote), for outage tests. */
  killNode(node: RedisNode): Promise<void>;
  destroy(): Promise<void>;
}

export interface RedisSentinelBackend {
  readonly sentinels: readonly RedisNode[];
  /** The master name the sentinels monitor. */
  readonly name: string;
  readonly master: RedisNode;
  readonly replica: RedisNode;
  /** Kills the master (SIGKILL: no chance to hand over), for failover tests. */
  stopMaster(): Promise<void>;
  /** Stops (SIGSTOP) or resumes (SIGCONT) the replica: a replica that lags without dying. */
  signalReplica(signal: 'SIGSTOP' | 'SIGCONT'): void;
  destroy(): Promise<void>;
}

/** A set of redis-server processes that live and die together. */
class RedisGroup {
  readonly dir: string;
  private readonly children = new Map<string, ChildProcess>();
  // A jest worker that exits without running afterAll (a crash, a timeout) must not leave
  // servers behind; kill() is synchronous, so it works in an 'exit' handler.
  private readonly killOnExit = (): void => {
    for (const child of this.children.values()) child.kill('SIGKILL');
  };

  constructor(prefix: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    process.once('exit', this.killOnExit);
  }

  spawn(name: string, args: readonly string[], command = 'redis-server'): void {
    const dir = path.join(this.dir, name);
    mkdirSync(dir);
    const child = spawn(command, [...args, '--dir', dir, '--logfile', path.join(dir, 'redis.log')], { stdio: 'ignore' });
    // Unreferenced: a test that forgets destroy() must not keep jest alive; the exit handler then
    // kills the server.
    child.unref();
    this.children.set(name, child);
  }

  signal(name: string, signal: NodeJS.Signals): void {
    const child = this.children.get(name);
    if (!child) throw new Error(`no redis process named ${name}`);
    child.kill(signal);
  }

  async kill(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    this.children.delete(name);
    child.kill('SIGKILL');
    await waitForExit(child);
  }

  /** The tail of each process's log, for an error message. */
  logs(): string {
    return [...this.children.keys()]
      .map((name) => {
        const file = path.join(this.dir, name, 'redis.log');
        const tail = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-8).join('\n') : '(no log)';
        return `--- ${name}\n${tail}`;
      })
      .join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.children.keys()].map((name) => this.kill(name)));
    process.off('exit', this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs `start`; if it fails, nothing it started is left running, and the logs are in the error. */
  async startOrClean<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      const message = `${error instanceof Error ? error.message : String(error)}\n${this.logs()}`;
      await this.destroy();
      throw new Error(message);
    }
  }
}

/** One command through redis-cli (a few ms; keeps this file free of a client's reconnect logic). */
function redisCli(args: readonly string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve(stdout);
    });
  });
}

const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => until(check, timeoutMs, { what, intervalMs: 50 });

/** Both deployments are driven with redis-cli; without it, say so at once rather than time out. */
function requireRedisBinaries(): void {
  for (const [command, debianPackage] of [['redis-server', 'redis-server'], ['redis-cli', 'redis-tools']] as const) {
    if (!commandExists(command)) throw new Error(`${command} not found (Debian package: ${debianPackage})`);
  }
}

/** A free port whose cluster bus port (port + 10000, fixed by Redis) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    const bus = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port + 10_000, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (bus) return port;
  }
}

/** `count` different free ports: each probe releases its port, so the OS may offer it again. */
async function freePorts(count: number, pick: () => Promise<number> = freePort): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await pick());
  return [...ports];
}

/** redis-cli's reply, one value a line (so a port is matched whole, not inside another number). */
const replyLines = (reply: string): string[] => reply.split('\n').map((line) => line.trim());

const ephemeral = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/** A real three-master Redis Cluster (no replicas) on loopback. */
export async function startRedisCluster(): Promise<RedisClusterBackend> {
  requireRedisBinaries();
  const group = new RedisGroup('portcullis-cluster-');
  return group.startOrClean(async () => {
    const nodes: RedisNode[] = (await freePorts(3, freeClusterPort)).map((port) => ({ host: '127.0.0.1', port }));
    for (const { port } of nodes) {
      group.spawn(`node-${port}`, [
        '--port', String(port), ...ephemeral,
        '--cluster-enabled', 'yes', '--cluster-config-file', path.join(group.dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
      ]);
    }
    await Promise.all(nodes.map(({ port }) => waitForPort(port, 10_000)));
    await redisCli(['--cluster', 'create', ...nodes.map(({ host, port }) => `${host}:${port}`), '--cluster-replicas', '0', '--cluster-yes'], 30_000);
    // `--cluster create` returns once the configuration agrees; each node still has to see every
    // slot covered before it serves keys (cluster_state:ok).
    await Promise.all(
      nodes.map(({ port }) =>
        waitFor(`cluster node ${port} reaching cluster_state:ok`, async () => (await redisCli(['-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok'), 15_000),
      ),
    );
    return { nodes, killNode: (node) => group.kill(`node-${node.port}`), destroy: () => group.destroy() };
  });
}

/** A master, one replica and one sentinel watching them, on loopback. */
export async function startRedisSentinel(): Promise<RedisSentinelBackend> {
  requireRedisBinaries();
  const name = 'portcullis';
  const group = new RedisGroup('portcullis-sentinel-');
  return group.startOrClean(async () => {
    const [masterPort, replicaPort, sentinelPort] = (await freePorts(3)) as [number, number, number];
    // Diskless sync waits 5 s by default for more replicas to join; there is only the one.
    group.spawn('master', ['--port', String(masterPort), ...ephemeral, '--repl-diskless-sync-delay', '0']);
    group.spawn('replica', ['--port', String(replicaPort), ...ephemeral, '--replicaof', '127.0.0.1', String(masterPort)]);
    await waitForPort(masterPort, 10_000);
    // Started once the replica has synced, so the sentinel's first INFO of the master already
    // lists it and a failover has somewhere to go.
    await waitFor('replica syncing with the master', async () => (await redisCli(['-p', String(replicaPort), 'info', 'replication'])).includes('master_link_status:up'), 10_000);

    // A sentinel rewrites its config file as it learns the topology, so it gets its own.
    const conf = path.join(group.dir, 'sentinel.conf');
    writeFileSync(conf, [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      '',
    ].join('\n'));
    // Sentinel is built into redis-server; Debian's redis-sentinel package adds the binary by name.
    if (commandExists('redis-sentinel')) group.spawn('sentinel', [conf], 'redis-sentinel');
    else group.spawn('sentinel', [conf, '--sentinel']);
    const sentinel = ['-p', String(sentinelPort)];
    await waitFor('sentinel knowing the master', async () => replyLines(await redisCli([...sentinel, 'sentinel', 'get-master-addr-by-name', name])).includes(String(masterPort)), 10_000);
    await waitFor('sentinel knowing the replica', async () => replyLines(await redisCli([...sentinel, 'sentinel', 'replicas', name])).includes(String(replicaPort)), 10_000);
    return {
      sentinels: [{ host: '127.0.0.1', port: sentinelPort }],
      name,
      master: { host: '127.0.0.1', port: masterPort },
      replica: { host: '127.0.0.1', port: replicaPort },
      stopMaster: () => group.kill('master'),
      signalReplica: (signal) => group.signal('replica', signal),
      destroy: () => group.destroy(),
    };
  });
}
