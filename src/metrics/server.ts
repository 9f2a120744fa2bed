import Koa from 'koa';
/** What /metrics answers from: a registry, or the cluster primary's sum over its workers. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}
import { listen, type ListeningServer } from '../http/server';
import type { Logger } from '../logging/logger';

/**
 * The metrics listener: GET /metrics in the Prometheus text format, on METRICS_PORT, never on the
 * API's port, so the public API cannot expose them (which client ids are active, how many logins
 * fail). Nothing else is served here; anything else is 404 (405 for another method on /metrics).
 */
export function metricsApp(registry: MetricsSource): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    if (ctx.path !== '/metrics') {
      ctx.status = 404;
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      ctx.status = 405;
      return;
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await registry.metrics();
  });
  return app;
}

export async function startMetricsServer(registry: MetricsSource, port: number, host: string, log: Logger): Promise<ListeningServer> {
  const server = await listen(metricsApp(registry), port, host, log);
  log.info({ event: 'metrics.started', port: server.port, host }, 'metrics listening (GET /metrics)');
  return server;
}
