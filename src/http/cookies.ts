import type { AppContext } from './context';

// The service's cookies, each declared once. All carry the `__Host-` prefix: Secure, Path=/, no
// Domain, so a sibling subdomain can neither read nor plant them (RFC 6265bis §4.1.3.2); a
// `__Host-` cookie must have Path=/, so none can be narrowed to one endpoint's path. Browsers
// accept Secure cookies from http://localhost, which is what development uses. Written by hand
// rather than through koa's ctx.cookies, which refuses a Secure cookie on a connection it does
// not see as TLS (behind a TLS-terminating proxy without TRUST_PROXY, or on localhost).

export interface Cookie {
  readonly name: string;
  /** Lax: sent on top-level navigations from other sites (a sign-in link works). Strict: never cross-site. */
  readonly sameSite: 'Lax' | 'Strict';
}

/** The browser session (oauth/authorize/browser-session.ts). */
export const SESSION_COOKIE: Cookie = { name: '__Host-portcullis_session', sameSite: 'Lax' };
/** The per-browser key of the login, consent and logout forms' CSRF tokens (html/csrf.ts). */
export const FORM_COOKIE: Cookie = { name: '__Host-portcullis_form', sameSite: 'Lax' };
/** Cookie mode's refresh token (a client with refreshTokenInCookie); only its own pages' fetches use it. */
export const REFRESH_COOKIE: Cookie = { name: '__Host-portcullis_refresh', sameSite: 'Strict' };

/** Sets a cookie, HttpOnly always; `maxAgeSec` undefined = until the browser closes. */
export function setCookie(ctx: AppContext, cookie: Cookie, value: string, maxAgeSec?: number): void {
  const parts = [`${cookie.name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', `SameSite=${cookie.sameSite}`];
  if (maxAgeSec !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`);
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(ctx: AppContext, cookie: Cookie): void {
  setCookie(ctx, cookie, '', 0);
}

/** One cookie's value from the request; undefined when absent or sent more than once (ambiguous). */
export function readCookie(ctx: AppContext, cookie: Cookie): string | undefined {
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  let found: string | undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== cookie.name) continue;
    if (found !== undefined) return undefined;
    found = pair.slice(eq + 1).trim();
  }
  return found;
}
