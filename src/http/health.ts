import { TimeoutError, withTimeout } from '../async';
import { pingDatabase } from '../db/database';
import type { Deps } from '../deps';
import { OutageLog } from '../store/outage-log';

export type DependencyStatus = 'up' | 'down';

/** How long one probe's result answers every caller (see Health.check). */
export const PROBE_REUSE_MS = 1000;

export interface DependencyCheck {
  readonly status: DependencyStatus;
  /** `redis` or `memory`; `postgres` or `pglite`. */
  readonly backend: string;
  /** `timeout` or `unreachable`: generic on purpose (see check()). */
  readonly reason?: string;
}

/**
 * - `ready`: every dependency answers.
 * - `degraded`: the token store answers, the database does not, but it did earlier. Still ready:
 *   forward-auth and the JWKS need no database, and introspection and revocation need only the
 *   token store and the client cache, which keeps serving clients read before the outage
 *   (oauth/client-cache.ts, STALE_IF_ERROR_MS); pulling every replica would take them down too.
 *   What needs the database fails with 503 until it is back: refreshes (the user is read again),
 *   logins, token requests, clients not read before the outage, the account and admin APIs.
 * - `unavailable`: the token store does not answer (no token can be checked), or the database has
 *   not answered once since start (an instance with a wrong DATABASE_URL or password, or cold
 *   caches, must not join: a rollout stops at its first instance).
 * - `draining`: SIGTERM arrived; the instance finishes what it has and takes nothing new.
 */
export type HealthStatus = 'ready' | 'degraded' | 'unavailable' | 'draining';

export interface HealthReport {
  readonly status: HealthStatus;
  /** Whether an orchestrator should send traffic here (/readyz 200). */
  readonly ready: boolean;
  readonly checks: { readonly store: DependencyCheck; readonly database: DependencyCheck };
}

async function probe(backend: string, ping: () => Promise<void>, timeoutMs: number): Promise<DependencyCheck> {
  try {
    await withTimeout(ping(), timeoutMs);
    return { status: 'up', backend };
  } catch (error) {
    // The reason stays generic: /readyz is often reachable from outside, and driver messages
    // name hosts and ports (the outage log line has the driver's message).
    return { status: 'down', backend, reason: error instanceof TimeoutError ? 'timeout' : 'unreachable' };
  }
}

/**
 * What this instance can serve, decided from its dependencies and whether it is draining: the
 * readiness endpoint answers from it, and the metrics read it (check()). Also where the
 * database's outage is logged once (OutageLog): the probes and the error handler report to it.
 */
export class Health {
  private drainingSince: number | undefined;
  /** The database answered a probe since start (see `degraded`). */
  private databaseSeen = false;
  /** The database's outage, logged once (the token store logs its own: store/create-store.ts). */
  readonly database: OutageLog;

  constructor(private readonly deps: Pick<Deps, 'config' | 'db' | 'dbKind' | 'storage' | 'log'>) {
    this.database = new OutageLog(deps.log, 'database');
    // Any query that succeeds ends an outage, so its end is logged without /readyz being polled
    // (the error handler reports its start). Cheap: one comparison while the database is up.
    deps.db.on('query-response', this.databaseAnswered);
  }

  private readonly databaseAnswered = (): void => {
    this.databaseSeen = true;
    this.database.up();
  };

  /**
   * The database answered before this Health existed (the start checks its connection and its
   * migrations): an outage from now on is `degraded`, not "never answered", even before the
   * first probe.
   */
  databaseAnsweredAtStart(): void {
    this.databaseSeen = true;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** From SIGTERM on, readiness answers 503 so the orchestrator stops sending traffic. */
  startDrain(): void {
    this.drainingSince ??= Date.now();
  }

  /**
   * Probes both dependencies (each within READINESS_TIMEOUT_MS, in parallel). Callers share the
   * probe in flight, however long it takes, and its result for PROBE_REUSE_MS after it ends:
   * /readyz is often reachable from outside and the metrics read it at every scrape, so a flood
   * of either runs one `select 1` and one PING at a time, at most one a second. Draining is read
   * live and answered without waiting for a probe (with the last result's checks, when there is one).
   */
  async check(): Promise<HealthReport> {
    const { database, store } = (this.draining ? this.lastChecks : undefined) ?? (await this.sharedProbe());
    const status: HealthStatus = this.draining
      ? 'draining'
      : store.status === 'down' || (database.status === 'down' && !this.databaseSeen)
        ? 'unavailable'
        : database.status === 'down'
          ? 'degraded'
          : 'ready';
    return { status, ready: status === 'ready' || status === 'degraded', checks: { store, database } };
  }

  private inFlight: Promise<HealthReport['checks']> | undefined;
  private lastChecks: HealthReport['checks'] | undefined;
  private lastChecksAt = Number.NEGATIVE_INFINITY;

  /** The probe in flight, whatever its age; else the last result while younger than PROBE_REUSE_MS; else a new probe. */
  private sharedProbe(): Promise<HealthReport['checks']> {
    if (this.inFlight) return this.inFlight;
    if (this.lastChecks && performance.now() - this.lastChecksAt < PROBE_REUSE_MS) return Promise.resolve(this.lastChecks);
    const probing = this.probe()
      .then((checks) => {
        this.lastChecks = checks;
        this.lastChecksAt = performance.now();
        return checks;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = probing;
    return probing;
  }

  private async probe(): Promise<HealthReport['checks']> {
    const timeoutMs = this.deps.config.readinessTimeoutMs;
    const [database, store] = await Promise.all([
      probe(this.deps.dbKind, () => pingDatabase(this.deps.db), timeoutMs),
      probe(this.deps.storage.kind, () => this.deps.storage.ping(), timeoutMs),
    ]);
    if (database.status === 'up') {
      this.databaseAnswered();
    } else {
      this.database.down(database.reason ?? 'unreachable');
    }
    return { store, database };
  }
}
