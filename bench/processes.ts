import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  output(): string;
  /** Resident set size now, in MiB (Linux /proc). */
  rssMiB(): number;
  stop(): Promise<void>;
}

const childEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env });

/** The handle of a started server process listening on `port`. */
function handle(child: ChildProcess, port: number, output: () => string): NodeProcess {
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    rssMiB: () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** Starts `node args...` and waits for its `{"event":"server.started","port":N}` log line. */
export function startNode(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 1_000_000) out = out.slice(-100_000);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${out}`)), timeoutMs);
    const check = () => {
      const match = /"event":"server\.started"[^\n]*?"port":(\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve(handle(child, Number(match[1]), () => out));
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/**
 * Starts the service on a known port with its log going to a file (as a log shipper would take
 * it, not through this process), and waits until /readyz answers 200.
 */
export async function startService(args: readonly string[], env: Record<string, string>, port: number, logFile: string, timeoutMs = 60_000): Promise<NodeProcess> {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...args], { env: childEnv({ ...env, PORT: String(port) }), stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} not ready: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return handle(child, port, () => readFileSync(logFile, 'utf8'));
}

/** Runs `node args...` to completion; resolves with stdout, rejects on a non-zero exit. */
export function runNode(args: readonly string[], env: Record<string, string>, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`))));
    child.stdin.end(input);
  });
}
