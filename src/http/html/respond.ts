import type { Middleware } from 'koa';
import type { Config } from '../../config/config';
import { isFormKey, newFormKey } from './csrf';
import { RedirectableError, UnsafeRedirectError } from '../../oauth/authorize/request';
import { errorLocation } from '../../oauth/authorize/flow';
import { OAuthError } from '../../oauth/errors';
import { RequestAbortedError } from '../../identity/semaphore';
import { StoreUnavailableError } from '../../store/unavailable';
import type { OutageLog } from '../../store/outage-log';
import { DATABASE_RETRY_AFTER_SEC, isDatabaseOutage } from '../../db/outage';
import type { AppContext, AppState } from '../context';
import { FORM_COOKIE, readCookie, setCookie } from '../cookies';
import { errorPage, STYLE_HASH } from './pages';

/** A CSP source for where a form's 303 may lead: CSP form-action applies to redirects too. */
function formTarget(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
  } catch {
    return undefined;
  }
}

/**
 * An HTML page: no framing (CSP frame-ancestors and X-Frame-Options, against clickjacking the
 * login form), no caching (it carries a CSRF token and the user's name), no referrer (the
 * authorization request's URL carries the app's state), only the page's own stylesheet, and
 * forms that post here and redirect only to `formTargets`.
 */
export function sendPage(ctx: AppContext, status: number, html: string, formTargets: readonly string[] = []): void {
  const targets = [...new Set(formTargets.map(formTarget).filter((target): target is string => target !== undefined))];
  ctx.set('Content-Security-Policy', [`default-src 'none'`, `style-src ${STYLE_HASH}`, `form-action 'self'${targets.map((target) => ` ${target}`).join('')}`, `frame-ancestors 'none'`, `base-uri 'none'`].join('; '));
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

/** 303 See Other: after a POST the browser follows with a GET, never re-posting the password (never 307). */
export function redirect(ctx: AppContext, location: string): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.status = 303;
  ctx.set('Location', location);
  ctx.body = '';
}

/** The browser's form key (CSRF), set as a cookie when it has none. */
export function formKey(ctx: AppContext): string {
  const current = readCookie(ctx, FORM_COOKIE);
  if (isFormKey(current)) return current;
  const key = newFormKey();
  setCookie(ctx, FORM_COOKIE, key);
  return key;
}

/**
 * A POST to a page must come from our own pages: a cross-site form carries its own Origin and
 * Sec-Fetch-Site, which the browser sets and a page cannot forge. Our pages send no referrer
 * (Referrer-Policy: no-referrer), and under that policy the Fetch standard serialises the Origin
 * of their own form posts as `null`; so `null` passes only together with Sec-Fetch-Site:
 * same-origin (a sandboxed or data: document elsewhere also says `null`, but never same-origin).
 * A request with neither header (not a browser) still needs the form's CSRF token.
 */
export function fromOwnPage(ctx: AppContext, config: Pick<Config, 'issuer'>): boolean {
  const origin = ctx.get('origin');
  const site = ctx.get('sec-fetch-site');
  if (origin === 'null') return site === 'same-origin';
  if (origin !== '' && origin !== new URL(config.issuer).origin) return false;
  return site === '' || site === 'same-origin' || site === 'none';
}

/** The endpoints a browser is sent to: they answer with pages and redirects, never JSON. */
export const PAGE_PATH = /^\/oauth\/(authorize|login|consent|logout)\/*$/;

/**
 * The errors of the browser endpoints as a browser should see them: back to the app when its
 * redirect URI is proven, else a page; never the JSON of the API error handler. Placed before
 * the body parser, so a malformed form or URL (a repeated field, a NUL) and a wrong method get a
 * page too.
 */
export function pageErrors(config: Pick<Config, 'issuer' | 'browser'>, database?: OutageLog): Middleware<AppState> {
  const product = config.browser.productName;
  return async (ctx, next) => {
    if (!PAGE_PATH.test(ctx.path)) return next();
    // One spelling per page: with a trailing slash the router would still match, and the
    // page's relative form actions would then point nowhere.
    if (ctx.path.endsWith('/')) return sendPage(ctx, 404, errorPage(product, 'Not found', 'There is no page at this address.'));
    try {
      await next();
      if (ctx.body === undefined && ctx.status >= 400) {
        const status = ctx.status;
        sendPage(ctx, status, errorPage(product, 'Request refused', status === 405 ? 'This address does not take that kind of request.' : 'The request could not be handled.'));
      }
    } catch (thrown) {
      if (thrown instanceof RedirectableError) {
        ctx.state.log.info({ event: 'authorize.refused', error: thrown.error.code, description: thrown.error.description }, 'authorization request refused: sent back to the app');
        redirect(ctx, errorLocation({ config }, thrown));
        return;
      }
      if (thrown instanceof UnsafeRedirectError) {
        ctx.state.log.info({ event: 'authorize.refused', error: 'invalid_request', description: thrown.description }, 'authorization request refused: not redirected');
        sendPage(ctx, 400, errorPage(product, 'This sign-in link is not valid', `${thrown.description}. Go back to the app and try again; if this keeps happening, tell its developers.`));
        return;
      }
      if (thrown instanceof OAuthError && thrown.status < 500) {
        sendPage(ctx, thrown.status, errorPage(product, 'Request refused', thrown.description));
        return;
      }
      if (thrown instanceof StoreUnavailableError) {
        ctx.state.log.warn({ event: 'store.unavailable', operation: thrown.operation, reason: thrown.reason }, 'token store unavailable: sign-in page refused');
        ctx.set('Retry-After', String(thrown.retryAfterSec));
        sendPage(ctx, 503, errorPage(product, 'Sign-in is unavailable', 'Sign-in is not available right now. Please try again in a moment.'));
        return;
      }
      if (isDatabaseOutage(thrown)) {
        // As the API answers it (middleware/errors.ts): logged once per outage, never a 500.
        database?.down(thrown.message);
        ctx.state.log.debug({ event: 'database.request_failed', reason: thrown.message }, 'database unavailable: sign-in page refused');
        ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SEC));
        sendPage(ctx, 503, errorPage(product, 'Sign-in is unavailable', 'Sign-in is not available right now. Please try again in a moment.'));
        return;
      }
      const { status } = (thrown ?? {}) as { status?: unknown };
      if (typeof status === 'number' && status >= 400 && status < 500 && !(thrown instanceof OAuthError)) {
        // Raised by koa or the body parser (a body over the limit, a bad Content-Type): the client's mistake.
        sendPage(ctx, status, errorPage(product, 'Request refused', status === 413 ? 'The form was too large.' : 'The request could not be read.'));
        return;
      }
      if (thrown instanceof RequestAbortedError) {
        ctx.status = 499; // nobody reads it (see middleware/errors.ts)
        ctx.body = '';
        return;
      }
      ctx.state.log.error({ event: 'http.unhandled_error', err: thrown }, 'unhandled error');
      sendPage(ctx, 500, errorPage(product, 'Something went wrong', `Please try again. If it keeps happening, quote this reference: ${ctx.state.requestId}`));
    }
  };
}
