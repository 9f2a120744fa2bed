import type { Middleware } from 'koa';
import type { AppState } from '../http/context';
import type { Metrics } from './registry';
import { routeTemplate, type RoutedContext } from '../http/route-template';

// The methods the API serves (and OPTIONS for CORS); any other Node accepts (PROPFIND, MKCOL...,
// 35 in all) is `other`, so a caller cannot multiply the series by sending them to every route.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : 'other');

/**
 * Counts and times every request, outermost, so error responses are counted with their final
 * status. On the hot paths it costs two clock reads, a route lookup over the few matched layers
 * and a map lookup: the labelled series are bound once per (method, route, code).
 */
export function httpMetrics(metrics: Metrics): Middleware<AppState> {
  const series = new Map<string, { readonly requests: { inc(): void }; readonly duration: { observe(value: number): void } }>();
  return async (ctx, next) => {
    const startedAt = performance.now();
    let failed = false;
    try {
      await next();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const seconds = (performance.now() - startedAt) / 1000;
      const route = routeTemplate(ctx as unknown as RoutedContext, ctx.method);
      const code = failed ? '500' : String(ctx.status);
      const method = methodLabel(ctx.method);
      const key = `${method} ${route} ${code}`;
      let bound = series.get(key);
      if (bound === undefined) {
        bound = { requests: metrics.httpRequests.labels(method, route, code), duration: metrics.httpDuration.labels(method, route) };
        series.set(key, bound);
      }
      bound.requests.inc();
      bound.duration.observe(seconds);
    }
  };
}
