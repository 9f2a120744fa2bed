import Koa, { type Middleware } from 'koa';
import type { Deps } from '../deps';
import type { AppState } from './context';
import { createHotPaths, type HotPaths } from './hot-paths';
import { hotRoutes } from './hot-routes';
import { abortSignal } from './middleware/abort-signal';
import { body } from './middleware/body';
import { clientAddress } from './middleware/client-address';
import { cors } from './middleware/cors';
import { pageErrors } from './html/respond';
import { errorHandler } from './middleware/errors';
import { requestId } from './middleware/request-id';
import { requestLog } from './middleware/request-log';
import { apiSecurityHeaders, securityHeaders } from './middleware/security-headers';
import { accountRoutes } from './routes/account';
import { adminClientRoutes } from './routes/admin-clients';
import { adminUserRoutes } from './routes/admin-users';
import { authorizeRoutes } from './routes/authorize';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { logoutRoutes } from './routes/logout';
import { oauthRoutes } from './routes/oauth';
import { revocationFeedRoutes, type FeedRouteOptions } from './routes/revocation-feed';

export interface AppOptions {
  /** The request metrics (metrics/http-metrics.ts), outermost so every answer is counted as sent. */
  readonly metrics?: Middleware<AppState> | undefined;
  /** GET /oauth/revocations: its subscriber bounds and heartbeat (tests set small ones). */
  readonly revocationFeed?: FeedRouteOptions;
}

/** Builds the Koa application without listening, so tests drive it with supertest. `hot`: the
 *  caches, when the caller also needs them (main.ts clears them after a CLIENTS_FILE apply). */
export function createApp(deps: Deps, hot: HotPaths = createHotPaths(deps), options: AppOptions = {}): Koa<AppState> {
  const app = new Koa<AppState>();
  // Errors are rendered and logged by errorHandler; koa's own stderr printing stays off.
  app.silent = true;

  if (options.metrics) app.use(options.metrics);

  const routers = [healthRoutes(hot.health), oauthRoutes(deps, hot), revocationFeedRoutes(deps, hot, options.revocationFeed), authorizeRoutes(deps, hot), logoutRoutes(deps, hot), accountRoutes(deps, hot), adminUserRoutes(deps, hot), adminClientRoutes(deps, hot)];
  const errors = errorHandler(hot.health.database);
  const bodies = body();

  app.use(requestId(deps.log));
  app.use(clientAddress(deps.config.trustProxy));
  app.use(requestLog(deps.config.accessLog));
  // Introspection, forward-auth and the probes: their routes behind only what they need (hot-routes.ts).
  app.use(hotRoutes(routers, [apiSecurityHeaders(), errors, bodies]));
  app.use(securityHeaders());
  app.use(cors(hot.origins, hot.health.database));
  app.use(errors);
  app.use(pageErrors(deps.config, hot.health.database));
  app.use(abortSignal());
  app.use(bodies);

  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  // Last: its document describes every router above, read from the app.
  const docs = docsRoutes(deps.config, app);
  app.use(docs.routes());
  app.use(docs.allowedMethods());
  return app;
}
