import { Gauge } from 'prom-client';
import { ACQUIRE_FAILED } from '../db/pg-client';
import type { Deps } from '../deps';
import type { Health } from '../http/health';
import type { Metrics } from './registry';

type Observed = Pick<Deps, 'config' | 'db' | 'storage' | 'passwords' | 'keyring'>;

/** What knex tells its 'query', 'query-response' and 'query-error' listeners about a query. */
interface KnexQuery {
  readonly __knexQueryUid?: string;
  readonly method?: string;
}

/**
 * PostgreSQL query timing from knex's own events (transactions' queries included: knex repeats
 * them on the instance). The database is off the hot paths, so a map of queries in flight is
 * cheap enough. Returns the function that stops listening.
 */
function observeDatabase(db: Deps['db'], metrics: Metrics): () => void {
  const inFlight = new Map<string, number>();
  const finish = (query: KnexQuery, failed: boolean): void => {
    const uid = query.__knexQueryUid;
    const startedAt = uid === undefined ? undefined : inFlight.get(uid);
    if (uid === undefined || startedAt === undefined) return;
    inFlight.delete(uid);
    const method = query.method ?? 'raw';
    metrics.dbDuration.labels(method).observe((performance.now() - startedAt) / 1000);
    if (failed) metrics.dbErrors.labels(method).inc();
  };
  const onQuery = (query: KnexQuery): void => {
    if (query.__knexQueryUid !== undefined) inFlight.set(query.__knexQueryUid, performance.now());
  };
  const onResponse = (_response: unknown, query: KnexQuery): void => finish(query, false);
  const onError = (_error: unknown, query: KnexQuery): void => finish(query, true);
  db.on('query', onQuery);
  db.on('query-response', onResponse);
  db.on('query-error', onError);
  // A query that found no connection (the database unreachable or hung) fails before knex's
  // 'query' event: counted as method "connect", so the error rate shows the outage too.
  const connectErrors = metrics.dbErrors.labels('connect');
  const onAcquireFailed = (): void => connectErrors.inc();
  const client = db.client as NodeJS.EventEmitter;
  client.on(ACQUIRE_FAILED, onAcquireFailed);
  return () => {
    client.off(ACQUIRE_FAILED, onAcquireFailed);
    db.off('query', onQuery);
    db.off('query-response', onResponse);
    db.off('query-error', onError);
  };
}

/**
 * The dependencies' metrics: database and Redis call timing, the password-hash queue, the
 * signing keys and whether each backend answers. The gauges are read at scrape time (`collect`),
 * so they follow key reloads and queue changes with no work between scrapes; they are defined
 * here, beside what they read. Returns the function that stops observing.
 */
export function observeDependencies(deps: Observed, metrics: Metrics, health: Pick<Health, 'check'>): () => void {
  const stopDatabase = observeDatabase(deps.db, metrics);
  // Bound once per command: the introspection hot path times a command on every request.
  const redisSeries = new Map<string, { observe(value: number): void }>();
  const stopRedis = deps.storage.observeCommands?.((command, seconds, failed) => {
    let series = redisSeries.get(command);
    if (series === undefined) {
      series = metrics.redisDuration.labels(command);
      redisSeries.set(command, series);
    }
    series.observe(seconds);
    if (failed) metrics.redisErrors.labels(command).inc();
  });

  const hashWait = metrics.hashWait;
  deps.passwords.observeQueue({
    started: (seconds) => hashWait.observe(seconds),
    refused: (reason) => metrics.hashRefused.labels(reason).inc(),
  });
  const registers = [metrics.registry];
  new Gauge({
    name: 'portcullis_password_hash_queue_depth',
    help: 'Password hashes waiting for a slot (at most ARGON2_MAX_QUEUE).',
    registers,
    collect() {
      this.set(deps.passwords.pending);
    },
  });
  new Gauge({
    name: 'portcullis_password_hash_running',
    help: 'Password hashes running (at most ARGON2_MAX_CONCURRENT).',
    registers,
    collect() {
      this.set(deps.passwords.running);
    },
  });
  new Gauge({
    name: 'portcullis_signing_key_info',
    help: 'The configured signing keys (1 each), by kid and state (next, active, retired); follows key reloads.',
    labelNames: ['kid', 'state'] as const,
    // With WORKERS, the primary combines the workers' values: a key is 1, not one per worker.
    aggregator: 'max',
    registers,
    collect() {
      this.reset();
      for (const key of deps.keyring.current.byKid.values()) this.labels(key.kid, key.state).set(1);
    },
  });

  // The readiness probes' own checks (http/health.ts), shared with /readyz: a scrape runs at
  // most one `select 1` and one PING a second however often either is asked.
  new Gauge({
    name: 'portcullis_dependency_up',
    help: 'Whether a dependency answered its readiness check (1) or not within READINESS_TIMEOUT_MS (0), by dependency (database, store); checked at most once a second.',
    labelNames: ['dependency'] as const,
    // With WORKERS: up only if every worker's check answered.
    aggregator: 'min',
    registers,
    async collect() {
      const { checks } = await health.check();
      this.labels('database').set(checks.database.status === 'up' ? 1 : 0);
      this.labels('store').set(checks.store.status === 'up' ? 1 : 0);
    },
  });

  return () => {
    stopDatabase();
    stopRedis?.();
    deps.passwords.observeQueue(undefined);
  };
}
