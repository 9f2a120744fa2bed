import type Router from '@koa/router';
import type { Deps } from '../../deps';
import { endSession, resumeSession } from '../../oauth/authorize/browser-session';
import { formToken, formTokenMatches } from '../../oauth/authorize/csrf';
import { clientOrigins, logoutLocation, parseLogoutRequest, type LogoutRequest } from '../../oauth/authorize/logout';
import { rawParams, UnsafeRedirectError } from '../../oauth/authorize/request';
import { isWellFormedText } from '../../text-input';
import type { HotPaths } from '../hot-paths';
import type { AppContext, AppState } from '../context';
import { clearCookie, FORM_COOKIE, readCookie, REFRESH_COOKIE, SESSION_COOKIE } from '../cookies';
import { logoutConfirmPage, signedOutPage } from '../html/pages';
import { formKey, fromOwnPage, pageErrors, redirect, sendPage } from '../html/respond';
import { newRouter } from './router';

const MAX_VALUE = 2048;

/** The request's parameters: the query of a GET, the form of a POST; each at most once. */
function paramsOf(ctx: AppContext): { get: (name: string) => string | undefined; form: ReadonlyMap<string, string> } {
  const form = ctx.method === 'POST' ? (ctx.state.form ?? new Map<string, string>()) : new Map<string, string>();
  const query = rawParams(ctx.querystring);
  const get = (name: string): string | undefined => {
    const values = ctx.method === 'POST' ? (form.has(name) ? [form.get(name)!] : []) : (query.get(name) ?? []);
    if (values.length > 1) throw new UnsafeRedirectError(`parameter ${name} is repeated`);
    const [value] = values;
    if (value !== undefined && (!isWellFormedText(value) || value.length > MAX_VALUE)) throw new UnsafeRedirectError(`parameter ${name} is not valid`);
    return value === '' ? undefined : value;
  };
  return { get, form };
}

/**
 * GET|POST /oauth/logout (the metadata's end_session_endpoint). Ends the browser session and the
 * refresh-token families it started. A request the app's own page posted (its Origin is one of
 * the client's) is done at once; any other (a link, a GET) is confirmed by the user first, so a
 * cross-site link cannot sign someone out silently.
 */
export function logoutRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = newRouter();
  const product = deps.config.browser.productName;
  router.use(pageErrors(deps.config));

  function done(ctx: AppContext, request: LogoutRequest): void {
    clearCookie(ctx, SESSION_COOKIE, 'Lax');
    clearCookie(ctx, REFRESH_COOKIE, 'Strict');
    const location = logoutLocation(request);
    if (location !== undefined) redirect(ctx, location);
    else sendPage(ctx, 200, signedOutPage(product));
  }

  const logout = async (ctx: AppContext) => {
    const { get, form } = paramsOf(ctx);
    const request = await parseLogoutRequest(get, hot.clients.find);
    const cookie = readCookie(ctx, SESSION_COOKIE);
    const origin = ctx.get('origin');
    const posted = ctx.method === 'POST';
    const fromApp = posted && request.client !== undefined && origin !== '' && clientOrigins(request.client).has(origin);
    const confirmed = posted && form.get('confirm') === 'yes' && fromOwnPage(ctx, deps.config) && formTokenMatches(readCookie(ctx, FORM_COOKIE), 'logout', request.canonical, form.get('csrf'));
    if (!fromApp && !confirmed && (await resumeSession(deps, cookie)) !== undefined) {
      const fields = Object.fromEntries(new URLSearchParams(request.canonical));
      const html = logoutConfirmPage({ productName: product, clientName: request.client?.name, fields: { ...fields, csrf: formToken(formKey(ctx), 'logout', request.canonical) } });
      sendPage(ctx, 200, html, request.postLogoutRedirectUri === undefined ? [] : [request.postLogoutRedirectUri]);
      return;
    }
    await endSession(deps, cookie);
    done(ctx, request);
  };
  router.get('/oauth/logout', logout);
  router.post('/oauth/logout', logout);
  return router;
}
