import cors from '@koa/cors';
import type { Middleware } from 'koa';

/**
 * `ALLOWED_ORIGINS`: comma-separated exact origins (`scheme://host[:port]`) whose pages may call
 * this API from a browser. Anything that is not exactly an origin (a path, a trailing slash, `*`,
 * a wildcard host) is refused at start-up: a typo must not quietly allow more, or nothing.
 */
export function parseAllowedOrigins(text: string | undefined): ReadonlySet<string> {
  const origins = new Set<string>();
  for (const entry of (text ?? '').split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      // A wildcard host parses as a URL, but no browser sends it: it would match nothing.
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname.includes('*')) origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (origin !== entry) throw new Error(`ALLOWED_ORIGINS: not an origin (scheme://host[:port], nothing after it): ${JSON.stringify(entry)}`);
    origins.add(origin);
  }
  return origins;
}

/**
 * CORS (Fetch standard) for the listed origins only; any other origin gets no CORS headers, which
 * the browser enforces. Tokens travel in the Authorization header, never in cookies, so
 * credentials are never allowed. `WWW-Authenticate` is exposed so that a browser app can read why
 * a token was refused (RFC 6750 §3).
 */
export function itemsCors(origins: ReadonlySet<string>): Middleware {
  return cors({
    origin: (ctx) => (origins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['WWW-Authenticate'],
    maxAge: 600,
    credentials: false,
    keepHeadersOnError: true,
  });
}
