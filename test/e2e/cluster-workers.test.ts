import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateJwk } from '../../src/tokens/generate';
import { missingBackend, postgresUrl, redisUrl, tempDir } from '../support/env';
import { runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

// Issue 17, "All cores": WORKERS=N runs N workers behind one listening socket; SIGHUP reaches
// every worker, SIGTERM drains them all, a killed worker is replaced, /readyz names the worker
// that answered and /metrics (on the primary) sums over the workers.

jest.setTimeout(120_000);

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const workerPids = (primary: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** Fresh connections, so the cluster's round robin reaches every worker. */
const askMany = async (url: string, times = 20): Promise<Response[]> => Promise.all(Array.from({ length: times }, () => fetch(url, { headers: { connection: 'close' } })));

describe('WORKERS=2 refusing to start', () => {
  it('checks the database once, in the primary, before forking: one refusal line, no worker', async () => {
    const unreachable = { WORKERS: '2', DATA_DIR: tempDir(), DATABASE_URL: 'postgres://portcullis@127.0.0.1:1/none', DATABASE_CONNECT_TIMEOUT: '1s', REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'info' };
    for (const migrate of ['true', 'false']) {
      const result = await runCli(['serve'], { ...unreachable, MIGRATE_ON_START: migrate });
      expect(result.code).toBe(1);
      expect(result.stdout.match(/"level":"fatal"/g)).toHaveLength(1);
      expect(result.stdout).toContain('"event":"database.unreachable"');
      expect(result.stdout).not.toContain('"event":"cluster.started"');
    }
  });
});

if (!redisUrl() || !postgresUrl()) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe('WORKERS=2', () => {
    let service: ServiceProcess;
    let keysFile: string;
    let metricsPort: number;

    beforeAll(async () => {
      const dir = tempDir();
      keysFile = path.join(dir, 'signing-keys.json');
      writeFileSync(keysFile, JSON.stringify({ keys: [{ ...generateJwk('ES256', 'first'), state: 'active' }] }), { mode: 0o600 });
      metricsPort = await freePort();
      service = await startServiceProcess({
        WORKERS: '2',
        DATA_DIR: dir,
        REDIS_URL: redisUrl()!,
        DATABASE_URL: postgresUrl()!,
        REDIS_KEY_PREFIX: 'cluster-e2e:',
        SIGNING_KEYS_FILE: keysFile,
        METRICS_PORT: String(metricsPort),
        MIGRATE_ON_START: 'true',
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
      });
      // Both workers up (each logs server.started).
      await until(() => (service.stdout().match(/"event":"server\.started"/g) ?? []).length === 2, 30_000, { what: 'two workers listening' });
    });
    afterAll(async () => {
      if (service.child.exitCode === null) {
        service.child.kill('SIGKILL');
        for (const pid of workerPids(service.child.pid!)) process.kill(pid, 'SIGKILL');
      }
    });

    it('stops, instead of restarting them forever, when no worker can start (the port is taken)', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const started = Date.now();
        const result = await runCli(['serve'], { WORKERS: '2', DATA_DIR: tempDir(), REDIS_URL: redisUrl()!, DATABASE_URL: postgresUrl()!, REDIS_KEY_PREFIX: 'cluster-e2e:', SIGNING_KEYS_FILE: keysFile, MIGRATE_ON_START: 'true', PORT: String((taken.address() as net.AddressInfo).port), LOG_LEVEL: 'info' });
        expect(result.code).not.toBe(0);
        expect(result.stdout).toContain('"event":"cluster.start_failed"');
        expect(result.stdout).not.toContain('"event":"worker.exited"');
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        taken.close();
      }
    });

    it('answers from both workers on one port; /readyz names the worker', async () => {
      const workers = new Set<number>();
      await until(async () => {
        for (const res of await askMany(`${service.url}/readyz`)) {
          expect(res.status).toBe(200);
          workers.add(((await res.json()) as { worker: number }).worker);
        }
        return workers.size === 2;
      }, 15_000, { what: 'answers from two workers' });
      expect([[...workers].sort(), workerPids(service.child.pid!).length]).toEqual([[1, 2], 2]);
    });

    it('serves /metrics on the primary, summed over the workers', async () => {
      await askMany(`${service.url}/healthz`, 10);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((candidate) => candidate.startsWith('portcullis_http_requests_total{') && candidate.includes('route="/healthz"'));
      expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(10);
      // One active key, not one per worker.
      expect(text).toMatch(/^portcullis_signing_key_info\{kid="first",state="active"\} 1$/m);
    });

    it('reloads the keys in every worker on one SIGHUP to the primary', async () => {
      writeFileSync(keysFile, JSON.stringify({ keys: [{ ...generateJwk('ES256', 'first'), state: 'retired' }, { ...generateJwk('ES256', 'second'), state: 'active' }] }), { mode: 0o600 });
      service.child.kill('SIGHUP');
      await until(() => (service.stdout().match(/"event":"keys\.reloaded"/g) ?? []).length >= 2, 15_000, { what: 'keys.reloaded from both workers' });
      for (const res of await askMany(`${service.url}/.well-known/jwks.json`)) {
        const { keys } = (await res.json()) as { keys: Array<{ kid: string }> };
        expect(keys.map((key) => key.kid)).toContain('second');
      }
    });

    it('replaces a worker that dies', async () => {
      const [victim] = workerPids(service.child.pid!);
      process.kill(victim!, 'SIGKILL');
      await until(() => service.stdout().includes('"event":"worker.exited"'), 10_000, { what: 'worker.exited logged' });
      await until(() => {
        const pids = workerPids(service.child.pid!);
        return pids.length === 2 && !pids.includes(victim!);
      }, 15_000, { what: 'a replacement worker' });
      await until(async () => (await askMany(`${service.url}/readyz`)).every((res) => res.status === 200), 15_000, { what: 'every answer ready' });
    });

    it('drains every worker on SIGTERM and exits 0', async () => {
      const pids = workerPids(service.child.pid!);
      service.child.kill('SIGTERM');
      await expect(service.exited()).resolves.toEqual({ code: 0, signal: null });
      expect((service.stdout().match(/"event":"server\.stopped"/g) ?? []).length).toBeGreaterThanOrEqual(pids.length);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    });
  });
}
