import type Router from '@koa/router';
import { newRouter } from './router';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { bearerAuth } from '../middleware/bearer-auth';

/**
 * A router for a bearer-protected JSON API of this service under `prefix`: only tokens issued
 * for this API (`aud` names `audience`, the issuer) are accepted; every answer is `no-store`.
 */
export function apiRouter(prefix: string, hot: HotPaths, audience: string): Router<AppState> {
  const router = newRouter(prefix);
  router.use(bearerAuth(hot.checker, audience));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  return router;
}
