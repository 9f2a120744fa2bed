import koaCors from '@koa/cors';
import type { Middleware } from 'koa';
import { isDatabaseOutage } from '../../db/outage';
import type { OriginCache } from '../../oauth/origin-cache';
import type { OutageLog } from '../../store/outage-log';
import type { AppState } from '../context';

// What a browser app calls: the token and revocation endpoints, discovery, the JWKS, the
// OpenAPI document, the self-service and admin APIs. Introspection and forward-auth are for servers and gateways.
const CORS_PATH = /^\/(oauth\/(token|revoke)$|\.well-known\/|openapi\.json$|users\/me(\/|$)|admin\/)/;

/**
 * CORS for first-party browser apps (Fetch standard): an origin is allowed when a client is
 * registered with it (`portcullis client create --origins`). Tokens travel in the body and the
 * Authorization header; the one cookie an API call may carry is cookie mode's refresh token, at
 * the token endpoint, so credentials are allowed there and nowhere else. A request from
 * any other origin gets no CORS headers, which the browser enforces.
 */
export function cors(origins: OriginCache, database?: OutageLog): Middleware<AppState> {
  return koaCors({
    origin: async (ctx) => {
      const origin = ctx.get('Origin');
      if (origin === '' || !CORS_PATH.test(ctx.path)) return '';
      try {
        return (await origins.allows(origin)) ? origin : '';
      } catch (error) {
        // Without the list, no origin is allowed; the request itself still gets its answer. A
        // database outage is logged once, as every request's is (errors.ts): anyone can add an
        // Origin header, so a line with a stack per request was theirs to multiply.
        if (isDatabaseOutage(error)) {
          database?.down(error.message);
          (ctx.state as AppState).log.debug({ event: 'cors.origins_unavailable', reason: error.message }, 'could not read allowed origins: no CORS headers');
        } else (ctx.state as AppState).log.error({ event: 'cors.origins_unavailable', err: error }, 'could not read allowed origins');
        return '';
      }
    },
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Portcullis-Refresh'],
    exposeHeaders: ['WWW-Authenticate'],
    maxAge: 600,
    // Only the token endpoint's cookie mode uses a cookie, so credentials are allowed there only,
    // and only for the origins of cookie-mode clients (which client's cookie may be used is the
    // token endpoint's decision).
    credentials: async (ctx) => {
      const origin = ctx.get('Origin');
      if (ctx.path !== '/oauth/token' || origin === '') return false;
      try {
        return await origins.allowsCredentials(origin);
      } catch {
        return false; // logged by the origin check above
      }
    },
    keepHeadersOnError: true,
  }) as Middleware<AppState>;
}
