import type { AppContext } from './context';

// The service's cookies. All carry the `__Host-` prefix: Secure, Path=/, no Domain, so a
// sibling subdomain can neither read nor plant them (RFC 6265bis §4.1.3.2). Browsers accept
// Secure cookies from http://localhost, which is what development uses. Written by hand rather
// than through koa's ctx.cookies, which refuses a Secure cookie on a connection it does not
// see as TLS (behind a TLS-terminating proxy without TRUST_PROXY, or on localhost).

export const SESSION_COOKIE = '__Host-portcullis_session';
/** The per-browser key of the login and consent forms' CSRF tokens (oauth/authorize/csrf.ts). */
export const FORM_COOKIE = '__Host-portcullis_form';
/** Cookie mode's refresh token (a client with refreshTokenInCookie). */
export const REFRESH_COOKIE = '__Host-portcullis_refresh';

export interface CookieOptions {
  readonly sameSite: 'Lax' | 'Strict';
  /** Seconds; undefined = until the browser closes. */
  readonly maxAgeSec?: number | undefined;
}

export function setCookie(ctx: AppContext, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.maxAgeSec !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSec))}`);
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(ctx: AppContext, name: string, sameSite: CookieOptions['sameSite']): void {
  setCookie(ctx, name, '', { sameSite, maxAgeSec: 0 });
}

/** One cookie's value from the request; undefined when absent or sent more than once (ambiguous). */
export function readCookie(ctx: AppContext, name: string): string | undefined {
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  let found: string | undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = pair.slice(eq + 1).trim();
  }
  return found;
}
