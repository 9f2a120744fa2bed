import type { Middleware } from 'koa';
import type { Deps } from '../deps';
import type { AppState } from '../http/context';
import type { Health } from '../http/health';
import { observeDependencies } from './dependency-metrics';
import { subscribeEventMetrics } from './event-metrics';
import { httpMetrics } from './http-metrics';
import { createMetrics, type Metrics } from './registry';

export interface Instrumented {
  readonly metrics: Metrics;
  /** The API app's outermost middleware (http/app.ts). */
  readonly http: Middleware<AppState>;
  /** Unsubscribes from the events and stops timing database and Redis calls. */
  stop(): void;
}

/**
 * Everything the service measures, wired to its dependencies: the event hub's facts, the
 * database's and Redis's calls, the hash queue, the keys. Only built when METRICS_PORT is set:
 * without it nothing is measured and nothing costs anything.
 */
export function instrument(deps: Deps, health: Pick<Health, 'check'>): Instrumented {
  const metrics = createMetrics();
  const stopEvents = subscribeEventMetrics(deps.events, metrics);
  const stopDependencies = observeDependencies(deps, metrics, health);
  return {
    metrics,
    http: httpMetrics(metrics),
    stop: () => {
      stopEvents();
      stopDependencies();
    },
  };
}
