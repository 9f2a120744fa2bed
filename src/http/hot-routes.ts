import type Router from '@koa/router';
import compose from 'koa-compose';
import type { Middleware } from 'koa';
import type { AppState } from './context';

// HOT PATH. The verification endpoints (introspection, forward-auth) and the probes are asked
// far more often than anything else. In the general chain each request also passes CORS (which
// never answers them: no browser calls them), the sign-in pages' error renderer, and every
// router in turn, and the router builds and composes the matched route's middleware anew per
// request. Here they get the same route, built from the same routers (one declaration: the
// OpenAPI document, 405s and every other method still come from the routers), composed once
// behind the error handler and body parser they need: the same app, the same error model.

/** The paths dispatched here, any method the routers serve on them. */
export const HOT_PATHS: ReadonlySet<string> = new Set(['/oauth/introspect', '/oauth/verify', '/healthz', '/readyz']);

type AppRouter = Router<AppState>;
type AppMiddleware = Middleware<AppState>;

/** What @koa/router leaves on a context for the route it dispatched (route-template.ts reads `matched`). */
interface RoutedState {
  matched?: unknown;
  params?: Record<string, string>;
  routerPath?: string;
  _matchedRoute?: string | RegExp;
}

/**
 * The route's composed chain for this method and path, as the routers would run it: the first
 * router (in the app's order) with a route for it, that router's middleware whose path matches,
 * then the route. `undefined` when the general chain must decide (no route for this method, a
 * router that matches the path for other methods only and so answers 405, a path parameter).
 */
function build(routers: readonly AppRouter[], wrap: readonly AppMiddleware[], method: string, path: string): AppMiddleware | undefined {
  for (const router of routers) {
    const match = router.match(path, method);
    if (!match.route) {
      if (match.path.length > 0) return undefined;
      continue;
    }
    const layers = match.pathAndMethod;
    if (layers.some((layer) => layer.paramNames.length > 0)) return undefined;
    const route = layers.findLast((layer) => layer.methods.length > 0);
    if (route === undefined) return undefined;
    const matched = match.path;
    const routed: AppMiddleware = (ctx, next) => {
      const state = ctx as unknown as RoutedState;
      state.matched = matched;
      state.params = {};
      state.routerPath = String(route.path);
      state._matchedRoute = route.path;
      return next();
    };
    return compose([...wrap, routed, ...(layers.flatMap((layer) => layer.stack) as AppMiddleware[])]);
  }
  return undefined;
}

/**
 * Dispatches HOT_PATHS ahead of the general chain; anything else, and any method the routers do
 * not serve there, goes on to it. `wrap`: what these routes need before them (the error
 * handler, the body parser). Chains are built on first use, one per method and path: Node's
 * parser accepts a fixed set of methods, so the map stays small.
 */
export function hotRoutes(routers: readonly AppRouter[], wrap: readonly AppMiddleware[]): AppMiddleware {
  const chains = new Map<string, AppMiddleware | null>();
  return (ctx, next) => {
    const path = ctx.path;
    if (!HOT_PATHS.has(path)) return next();
    const key = `${ctx.method} ${path}`;
    let chain = chains.get(key);
    if (chain === undefined) {
      chain = build(routers, wrap, ctx.method, path) ?? null;
      chains.set(key, chain);
    }
    return chain === null ? next() : chain(ctx, next);
  };
}
