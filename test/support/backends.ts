import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Throwaway Redis and PostgreSQL servers on loopback, on random free ports, in temp dirs.
// Used by the global setup (shared servers) and by tests that must stop and restart a backend.
// Redis Cluster and Sentinel are in redis-topologies.ts.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function findPostgresBin(name: string): string | undefined {
  for (const dir of ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin', '/usr/local/bin', '/usr/bin']) {
    const file = path.join(dir, name);
    if (spawnSync('test', ['-x', file]).status === 0) return file;
  }
  return undefined;
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface Backend {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<Backend> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-redis-'));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    await waitForPort(port, 10_000);
  };
  const stop = async (): Promise<void> => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill('SIGKILL');
    await waitForExit(running);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresAvailable(): boolean {
  return findPostgresBin('initdb') !== undefined && findPostgresBin('postgres') !== undefined;
}

/** Postgres refuses to run as root; as root, its processes run as the `postgres` user. The
 *  server is spawned directly (not through su/runuser) so that signals reach it. */
function postgresIdentity(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!uid || !gid) throw new Error('running as root needs a "postgres" user to run PostgreSQL');
  return { uid, gid };
}

export async function startPostgres(): Promise<Backend> {
  const initdb = findPostgresBin('initdb');
  const postgres = findPostgresBin('postgres');
  if (!initdb || !postgres) throw new Error('PostgreSQL binaries (initdb, postgres) not found');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-pg-'));
  const identity = postgresIdentity();
  if (identity.uid !== undefined && identity.gid !== undefined) chownSync(dir, identity.uid, identity.gid);
  const data = path.join(dir, 'data');
  const init = spawnSync(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
    encoding: 'utf8',
    cwd: dir,
    ...identity,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);

  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(postgres, [
      '-D', data, '-p', String(port), '-k', dir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
    ], { stdio: 'ignore', cwd: dir, ...identity });
    await waitForPort(port, 20_000);
    // The port opens slightly before the server accepts queries; the first test query would race.
    await new Promise((resolve) => setTimeout(resolve, 200));
  };
  const stop = async (): Promise<void> => {
    if (!child) return;
    const running = child;
    child = undefined;
    // SIGINT is Postgres's "fast" shutdown: running transactions are cut, nothing waits.
    running.kill('SIGINT');
    await waitForExit(running);
    await new Promise((resolve) => setTimeout(resolve, 100));
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
