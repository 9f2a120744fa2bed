import { reusedRead } from '../reused-read';
import type { MetricsSource } from './server';

/**
 * A metrics source whose scrapes share work (reused-read.ts): a scrape while one is running
 * waits for that one, and a result younger than `maxAgeMs` is answered again. For the cluster
 * primary, where each scrape asks every worker over IPC and the workers serialise their
 * registries: a flood of scrapes on the metrics port (which should be reachable only by the
 * monitoring namespace, but a mistake there should not slow the API) then costs the workers at
 * most one collection per `maxAgeMs`. Prometheus scrapes every 15 s or so, so a 1 s old answer is
 * as good as new.
 */
export function sharedScrape(source: MetricsSource, maxAgeMs: number, now?: () => number): MetricsSource {
  return { contentType: source.contentType, metrics: reusedRead(() => source.metrics(), maxAgeMs, now) };
}
