import helmet from 'koa-helmet';
import type { Middleware } from 'koa';

/** Headers for a JSON API that browsers may call: nothing here is meant to be framed,
 *  rendered as a document or sniffed. */
export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  }) as unknown as Middleware;
}
