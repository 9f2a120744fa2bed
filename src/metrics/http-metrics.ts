import type { Middleware } from 'koa';
import type { AppState } from '../http/context';
import type { Metrics } from './registry';

/** What @koa/router leaves on the context: every layer whose path matched, in order. */
interface RoutedContext {
  readonly matched?: ReadonlyArray<{ readonly path: string | RegExp; readonly methods: readonly string[] }>;
}

/**
 * The route template of the request (`/admin/clients/:id`), never its URL, so the label has as
 * many values as there are routes. @koa/router's own `_matchedRoute` is not used: a router-level
 * middleware that answers before the route (bearer authentication's 401) leaves its own path
 * there. The last layer that serves the method wins; a path served for other methods only (405)
 * is still that route; nothing matched is `unmatched` (404s of any URL are one series).
 */
export function routeTemplate(ctx: RoutedContext, method: string): string {
  const layers = ctx.matched;
  if (!layers || layers.length === 0) return 'unmatched';
  let anyRoute: string | RegExp | undefined;
  for (let index = layers.length - 1; index >= 0; index -= 1) {
    const layer = layers[index]!;
    if (layer.methods.length === 0) continue;
    if (layer.methods.includes(method)) return String(layer.path);
    anyRoute ??= layer.path;
  }
  return anyRoute === undefined ? 'unmatched' : String(anyRoute);
}

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
