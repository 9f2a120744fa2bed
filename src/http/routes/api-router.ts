import Router from '@koa/router';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { bearerAuth } from '../middleware/bearer-auth';

/** A router for a bearer-protected JSON API under `prefix`: every answer is `no-store`. */
export function apiRouter(prefix: string, hot: HotPaths): Router<AppState> {
  const router = new Router<AppState>({ prefix });
  router.use(bearerAuth(hot.checker));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  return router;
}
