import koaCors from '@koa/cors';
import type { Middleware } from 'koa';
import type { OriginCache } from '../../oauth/origin-cache';
import type { AppState } from '../context';

// What a browser app calls: the token and revocation endpoints, discovery and the JWKS, the
// self-service and admin APIs. Introspection and forward-auth are for servers and gateways.
const CORS_PATH = /^\/(oauth\/(token|revoke)$|\.well-known\/|users\/me(\/|$)|admin\/)/;

/**
 * CORS for first-party browser apps (Fetch standard): an origin is allowed when a client is
 * registered with it (`portcullis client create --origins`). No cookies are used (tokens travel
 * in the body and the Authorization header), so credentials are never allowed. A request from
 * any other origin gets no CORS headers, which the browser enforces.
 */
export function cors(origins: OriginCache): Middleware<AppState> {
  return koaCors({
    origin: async (ctx) => {
      const origin = ctx.get('Origin');
      if (origin === '' || !CORS_PATH.test(ctx.path)) return '';
      try {
        return (await origins.allows(origin)) ? origin : '';
      } catch (error) {
        // Without the list, no origin is allowed; the request itself still gets its answer.
        (ctx.state as AppState).log.error({ event: 'cors.origins_unavailable', err: error }, 'could not read allowed origins');
        return '';
      }
    },
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['WWW-Authenticate'],
    maxAge: 600,
    credentials: false,
    keepHeadersOnError: true,
  }) as Middleware<AppState>;
}
