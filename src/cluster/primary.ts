import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/config';
import type { ListeningServer } from '../http/server';
import type { Logger } from '../logging/logger';
import { startMetricsServer } from '../metrics/server';
import { sharedScrape } from '../metrics/shared-scrape';

/** A worker that dies sooner than this after its start counts as crashing: its replacement waits. */
const STABLE_AFTER_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/** How long the primary answers a scrape with the last collection (metrics/shared-scrape.ts). */
const CLUSTER_SCRAPE_REUSE_MS = 1000;

/**
 * WORKERS > 1: this process forks the workers (each runs the whole service with its own pools;
 * node:cluster shares the listening socket), and only supervises:
 * - SIGHUP reaches every worker (each reloads its signing keys and CLIENTS_FILE);
 * - SIGTERM or SIGINT reaches every worker, each drains as a single process does, and this
 *   process exits 0 once all have (1 if any is still running SHUTDOWN_TIMEOUT + 5 s later);
 * - a worker that exits otherwise is replaced, after a delay that doubles while workers keep
 *   dying young (a crash loop does not spin the CPU);
 * - with METRICS_PORT, /metrics is served here, summed over the workers (prom-client's
 *   AggregatorRegistry asks each worker over the cluster channel); workers open no metrics port.
 */
/** What a worker sends once it listens (main.ts): from then on its exit is a crash, not a refused start. */
export const LISTENING_MESSAGE = { portcullis: 'listening' } as const;

function isListening(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { portcullis?: unknown }).portcullis === LISTENING_MESSAGE.portcullis;
}

export async function runPrimary(config: Config, count: number, log: Logger): Promise<void> {
  let stopping = false;
  let restartDelayMs = FIRST_RESTART_DELAY_MS;
  const startedAt = new Map<Worker, number>();
  let anyListened = false;

  const fork = (): void => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('message', (message: unknown) => {
      if (isListening(message)) anyListened = true;
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (!stopping && !anyListened) {
      // No worker has ever started: a refused start (the database, the keys), not a crash. The
      // worker logged why; restarting it would only repeat that line forever.
      stopping = true;
      log.fatal({ event: 'cluster.start_failed', worker: worker.id, code, signal }, 'a worker could not start: stopping');
      for (const other of startedAt.keys()) other.process.kill('SIGTERM');
      process.exitCode = code ?? 1;
      if (startedAt.size === 0) process.exit(code ?? 1);
      return;
    }
    if (stopping) {
      if (startedAt.size === 0) {
        log.info({ event: 'server.stopped', workers: count }, 'every worker has stopped');
        process.exit(process.exitCode ?? 0);
      }
      return;
    }
    restartDelayMs = lived >= STABLE_AFTER_MS ? FIRST_RESTART_DELAY_MS : Math.min(restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    log.error({ event: 'worker.exited', worker: worker.id, pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: restartDelayMs }, 'a worker exited; starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs).unref();
  });

  let metrics: ListeningServer | undefined;
  if (config.metricsPort !== undefined) {
    const aggregator = new AggregatorRegistry();
    // Scrapes share one collection a second: each asks every worker (metrics/shared-scrape.ts).
    const source = sharedScrape({ contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }, CLUSTER_SCRAPE_REUSE_MS);
    metrics = await startMetricsServer(source, config.metricsPort, config.metricsHost, log);
  }

  for (let index = 0; index < count; index += 1) fork();
  log.info({ event: 'cluster.started', workers: count, port: config.port, host: config.host }, 'portcullis primary: workers starting');

  process.on('SIGHUP', () => {
    for (const worker of startedAt.keys()) worker.process.kill('SIGHUP');
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'server.stopping', reason: signal, workers: startedAt.size }, 'shutting down every worker');
    void metrics?.close(1000);
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    if (startedAt.size === 0) process.exit(0);
    setTimeout(() => {
      log.error({ event: 'server.stop_failed', workers: startedAt.size }, 'workers still running after the shutdown timeout');
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutSec * 1000 + 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
