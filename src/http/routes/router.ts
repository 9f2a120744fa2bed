import Router from '@koa/router';
import type { AppState } from '../context';

/**
 * Every router of the service. Case-sensitive: with the default, `/Users/me` matched the
 * `/users/me` routes while the router-level middleware (bearer authentication) was bound to the
 * lower-case prefix and did not run, so handlers ran with no caller. One spelling per path.
 */
export function newRouter(prefix?: string): Router<AppState> {
  return new Router<AppState>({ sensitive: true, ...(prefix !== undefined ? { prefix } : {}) });
}
