import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Middleware } from 'koa';

/** Headers for a JSON API that browsers may call: nothing here is meant to be framed,
 *  rendered as a document or sniffed. */
const HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-site' },
  referrerPolicy: { policy: 'no-referrer' },
  frameguard: { action: 'deny' },
};

/**
 * What helmet does to every response with these options, found once by running it against a
 * recording response: the same headers for every request (none depends on the request), so each
 * request replays a fixed list instead of running helmet's dozen middlewares through a promise
 * (issue 17, "precomputed security headers"). Helmet stays the source of the values.
 */
export function helmetHeaders(): { readonly set: ReadonlyArray<readonly [string, string]>; readonly removed: readonly string[] } {
  const set = new Map<string, string>();
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      return recorder;
    },
    removeHeader(name: string) {
      set.delete(name);
      removed.push(name);
    },
    getHeader: (name: string) => set.get(name),
  };
  let finished = false;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return { set: [...set], removed };
}

export function securityHeaders(): Middleware {
  const { set, removed } = helmetHeaders();
  return async (ctx, next) => {
    const res = ctx.res;
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    await next();
  };
}

/** The headers of the API set (apiSecurityHeaders), by name, as helmet words them for pages. */
const API_HEADER_NAMES = ['Content-Security-Policy', 'Strict-Transport-Security', 'X-Content-Type-Options'];

/**
 * The headers of the verification endpoints and probes (http/hot-routes.ts): JSON for servers
 * and gateways, never a page. The OWASP REST set, worded as for the pages: nothing runs in it
 * or frames it if a browser ever opens it, no MIME sniffing, HTTPS pinned. The
 * browser-isolation headers helmet adds for pages (opener and resource policies,
 * Origin-Agent-Cluster, Referrer-Policy, X-Frame-Options beside frame-ancestors, and four
 * legacy ones) protect nothing in a gateway's subrequest, and were about 330 of the 740 bytes
 * of every answer that each gateway and resource service parses (issue 17: with the load
 * generator on the same cores, a bare Koa app sending them answered 25-35 % fewer requests).
 */
export function apiSecurityHeaders(): Middleware {
  const { set } = helmetHeaders();
  const chosen = set.filter(([name]) => API_HEADER_NAMES.includes(name));
  if (chosen.length !== API_HEADER_NAMES.length) throw new Error(`helmet no longer sets ${API_HEADER_NAMES.filter((name) => !chosen.some(([have]) => have === name)).join(', ')}`);
  return async (ctx, next) => {
    const res = ctx.res;
    for (const [name, value] of chosen) res.setHeader(name, value);
    await next();
  };
}
