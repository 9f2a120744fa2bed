import cluster from 'node:cluster';
import type { DestinationStream } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { LISTENING_MESSAGE, runPrimary } from './cluster/primary';
import { workerCount } from './cluster/worker-count';
import { systemClock, type Clock } from './clock';
import { loadConfig, type Config } from './config/config';
import { createDatabase, databaseTarget } from './db/database';
import { createEvents } from './events/create-events';
import { openDatabase } from './db/startup';
import type { Deps } from './deps';
import { seedDemoData } from './identity/demo-data';
import { findStoredProblems } from './identity/stored-check';
import { Passwords } from './identity/passwords';
import { createApp } from './http/app';
import { FeedSubscribers } from './oauth/feed-subscribers';
import { createHotPaths } from './http/hot-paths';
import { listen, type ListeningServer } from './http/server';
import { createLogger, type Logger } from './logging/logger';
import { createStores } from './store/create-store';
import { loadSigningKeys } from './config/signing-keys';
import { watchSigningKeys } from './config/key-reload';
import { startClientsFile, type ClientsWatch } from './clients-as-code/watch';
import { Keyring } from './tokens/keyring';
import { instrument } from './metrics/instrument';
import { startMetricsServer } from './metrics/server';
import { StartRefusal } from './start-refusal';

export interface BuildOptions {
  readonly clock?: Clock;
  readonly logDestination?: DestinationStream;
}

/** Builds every dependency from config: database (migrated when configured), token store, log. */
export async function buildDeps(config: Config, options: BuildOptions = {}): Promise<Deps> {
  const base = createLogger(config.logLevel, options.logDestination);
  // A cluster worker's lines say which worker wrote them (WORKERS, cluster/primary.ts).
  const log = cluster.isWorker && cluster.worker ? base.child({ worker: cluster.worker.id }) : base;
  const target = databaseTarget(config);
  if (target.kind === 'pglite') {
    log.warn({ event: 'database.embedded', dir: target.dir }, 'DATABASE_URL is not set: using embedded PGlite (development only)');
  }
  const loaded = loadSigningKeys(config);
  if (loaded.generatedAt) {
    log.warn({ event: 'keys.generated', file: loaded.generatedAt }, 'no signing keys configured: generated a development ES256 key (development only)');
  }
  const keyring = new Keyring(loaded.keys);
  let db: Deps['db'];
  try {
    db = createDatabase(target, log);
  } catch (error) {
    throw refused(log, error);
  }
  let events: Deps['events'] | undefined;
  try {
    // Unreachable, or migrations pending without MIGRATE_ON_START: refused, not started.
    const applied = await openDatabase(db, target, { migrate: config.migrateOnStart, log });
    if (applied.length > 0) log.info({ event: 'database.migrated', applied }, 'migrations applied');
    await reportStoredProblems(db, log);
    // Before the stores: an audit file that cannot be opened refuses the start holding nothing open.
    events = createEvents(log, { auditLogFile: config.auditLogFile });
    const { storage, families, revocations, revocationFeed, codes, browserSessions, throttle } = await createStores(config, log);
    const deps: Deps = { config, db, dbKind: target.kind, storage, families, revocations, revocationFeed, codes, browserSessions, throttle, passwords: new Passwords(config.argon2), keyring, log, events, clock: options.clock ?? systemClock };
    if (!config.production && config.migrateOnStart) await seedDemoData(deps);
    return deps;
  } catch (error) {
    events?.close();
    await db.destroy();
    throw refused(log, error);
  }
}

/** A database or an audit file the service cannot use stops the start with one log line saying why. */
function refused(log: Logger, error: unknown): unknown {
  if (error instanceof StartRefusal) {
    log.fatal({ event: error.event, ...error.details }, error.message);
    error.logged = true;
  }
  return error;
}

/** Older data that breaks a current rule is reported at every start (never dropped). */
async function reportStoredProblems(db: Deps['db'], log: Logger): Promise<void> {
  try {
    for (const problem of await findStoredProblems(db)) log.warn({ event: 'identity.stored_problem', ...problem }, 'stored identity data breaks a current rule (see `portcullis migrate`)');
  } catch (error) {
    log.debug({ event: 'identity.stored_check_skipped', err: error }, 'stored data not checked (schema not migrated yet?)');
  }
}

/**
 * What a cluster's primary checks once, before forking: the signing keys (a development key is
 * generated here, once, instead of by every worker at the same time) and the database (reachable,
 * migrated, or migrated now with MIGRATE_ON_START). A refusal is then one line, not one per
 * worker, and workers never race to create knex's migration lock table on a fresh database.
 */
async function prepareOnce(config: Config, log: Logger): Promise<void> {
  const loaded = loadSigningKeys(config);
  if (loaded.generatedAt) log.warn({ event: 'keys.generated', file: loaded.generatedAt }, 'no signing keys configured: generated a development ES256 key (development only)');
  const target = databaseTarget(config);
  const db = createDatabase(target, log);
  try {
    const applied = await openDatabase(db, target, { migrate: config.migrateOnStart, log });
    if (applied.length > 0) log.info({ event: 'database.migrated', applied }, 'migrations applied');
  } catch (error) {
    throw refused(log, error);
  } finally {
    await db.destroy();
  }
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.revocationFeed?.close(), deps.storage.close(), deps.db.destroy()]);
  deps.events.close();
}

export interface Service {
  readonly deps: Deps;
  readonly http: ListeningServer;
  /** GET /metrics on METRICS_PORT; absent when it is unset. */
  readonly metrics?: ListeningServer | undefined;
  /** Drains HTTP, then closes the store and the database. Safe to call more than once. */
  stop(reason: string): Promise<void>;
}

export async function startService(env: NodeJS.ProcessEnv, options: BuildOptions = {}): Promise<Service> {
  const config = loadConfig(env);
  const deps = await buildDeps(config, options);
  const hot = createHotPaths(deps);
  // buildDeps has connected and checked the migrations (db/startup.ts), so the database answered.
  hot.health.databaseAnsweredAtStart();
  let clientsWatch: ClientsWatch | undefined;
  try {
    // Applied before listening: the service never answers with clients the file has changed.
    // After each apply this instance's caches forget what they held; other instances within
    // CLIENT_CACHE_TTL, or at once when they apply the same file themselves.
    if (config.clientsFile) {
      clientsWatch = await startClientsFile(deps, config.clientsFile, config.clientsFilePrune, () => {
        hot.clients.clear();
        hot.origins.clear();
      });
    }
  } catch (error) {
    await closeDeps(deps);
    throw error;
  }
  // Metrics only when METRICS_PORT is set: otherwise nothing is measured (issue 16). A cluster
  // worker opens no port: the primary serves the sum over its workers (cluster/primary.ts).
  const instrumented = config.metricsPort === undefined ? undefined : instrument(deps, hot.health);
  let metrics: ListeningServer | undefined;
  if (instrumented && cluster.isWorker) {
    // prom-client answers the primary's requests once an AggregatorRegistry exists in the worker.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries(instrumented.metrics.registry);
  }
  if (instrumented && config.metricsPort !== undefined && cluster.isPrimary) {
    // Before the API listens: a metrics port already taken stops the start with nothing open.
    metrics = await startMetricsServer(instrumented.metrics.registry, config.metricsPort, config.metricsHost, deps.log).catch(async (error: unknown) => {
      await closeDeps(deps);
      throw error;
    });
  }
  const feedSubscribers = new FeedSubscribers();
  const app = createApp(deps, hot, { metrics: instrumented?.http, revocationFeed: { subscribers: feedSubscribers } });
  const http = await listen(app, config.port, config.host, deps.log);
  if (cluster.isWorker) process.send?.(LISTENING_MESSAGE);
  const stopWatchingKeys = watchSigningKeys(config, deps.keyring, deps.events);
  deps.log.info(
    { event: 'server.started', port: http.port, host: config.host, issuer: config.issuer, env: config.env },
    'portcullis listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      deps.log.info({ event: 'server.stopping', reason }, 'shutting down');
      // Readiness answers 503 from now on, while the drain below finishes what is in flight.
      hot.health.startDrain();
      // Revocation feeds never finish by themselves: ended now, their verifiers reconnect elsewhere.
      feedSubscribers.endAll();
      stopWatchingKeys();
      await clientsWatch?.stop();
      await http.close(config.shutdownTimeoutSec * 1000);
      // Scraped until the API has drained, so the drain itself is measured.
      await metrics?.close(1000);
      instrumented?.stop();
      // Last uses of client secrets noted since the last minute's write, while the database is open.
      await hot.secretUses.flush();
      await closeDeps(deps);
      deps.log.info({ event: 'server.stopped' }, 'shutdown complete');
    })();
    return stopping;
  };
  return { deps, http, metrics, stop };
}

/**
 * Process entry for `portcullis serve`: start, then drain and exit 0 on SIGTERM/SIGINT. With
 * WORKERS above 1, this process becomes the cluster's primary and each worker runs the service.
 */
export async function runServer(env: NodeJS.ProcessEnv): Promise<void> {
  if (cluster.isPrimary) {
    const config = loadConfig(env);
    const count = workerCount(config.workers);
    if (count > 1) {
      const log = createLogger(config.logLevel);
      await prepareOnce(config, log);
      return runPrimary(config, count, log);
    }
  }
  const service = await startService(env);
  const onSignal = (signal: NodeJS.Signals): void => {
    service
      .stop(signal)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        service.deps.log.error({ event: 'server.stop_failed', err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

export type { Logger };
