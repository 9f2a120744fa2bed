import type Router from '@koa/router';
import type { Deps } from '../../deps';
import { endSession, resumeSession, sessionFamilies } from '../../oauth/authorize/browser-session';
import { formToken, formTokenMatches } from '../../oauth/authorize/csrf';
import { clientOrigins, logoutLocation, parseLogoutRequest, type LogoutRequest } from '../../oauth/authorize/logout';
import { rawParams, UnsafeRedirectError } from '../../oauth/authorize/request';
import { familyPolicy } from '../../oauth/refresh-policy';
import { isWellFormedText } from '../../text-input';
import { hashRefreshSecret, parseRefreshToken } from '../../tokens/refresh-token';
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
 * GET|POST /oauth/logout (the metadata's end_session_endpoint). Ends the browser session, the
 * refresh-token families it started and cookie mode's refresh token. Done at once only when the
 * request is tied to the user's use of the app: a POST from one of the client's own origins, by a
 * client this browser session signed in to (or when no session is live). Anything else (a link, a
 * GET, another client) is confirmed by the user on our page first, so a cross-site request cannot
 * sign anyone out, nor clear their cookies.
 */
export function logoutRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = newRouter();
  const product = deps.config.browser.productName;
  router.use(pageErrors(deps.config));

  function back(ctx: AppContext, request: LogoutRequest): void {
    const location = logoutLocation(request);
    if (location !== undefined) redirect(ctx, location);
    else sendPage(ctx, 200, signedOutPage(product));
  }

  /** Cookie mode's refresh token ends with the logout (its family may predate this session). */
  async function revokeRefreshCookie(ctx: AppContext): Promise<void> {
    const value = readCookie(ctx, REFRESH_COOKIE);
    const presented = value === undefined ? undefined : parseRefreshToken(value);
    if (!presented) return;
    const now = deps.clock.now();
    const family = await deps.families.currentFamily(presented.familyId, hashRefreshSecret(presented.secret), now);
    if (family) await deps.families.revokeFamily(family.id, familyPolicy(deps.config), now);
  }

  const logout = async (ctx: AppContext) => {
    const { get, form } = paramsOf(ctx);
    const request = await parseLogoutRequest(get, hot.clients.find);
    const cookie = readCookie(ctx, SESSION_COOKIE);
    const posted = ctx.method === 'POST';
    const confirmed = posted && form.get('confirm') === 'yes' && fromOwnPage(ctx, deps.config) && formTokenMatches(readCookie(ctx, FORM_COOKIE), 'logout', request.canonical, form.get('csrf'));
    const origin = ctx.get('origin');
    const fromApp = posted && !confirmed && request.client !== undefined && origin !== '' && clientOrigins(request.client).has(origin);
    // A cross-site POST does not carry the SameSite=Lax session cookie: a top-level GET does.
    if (fromApp && cookie === undefined) return redirect(ctx, `logout?${request.canonical}`);
    const signedIn = await resumeSession(deps, cookie);
    const tied = confirmed || (fromApp && (signedIn === undefined || (await sessionFamilies(deps, signedIn.session, request.client!.id)).length > 0));
    if (!tied) {
      if (signedIn) {
        const fields = Object.fromEntries(new URLSearchParams(request.canonical));
        const html = logoutConfirmPage({ productName: product, clientName: request.client?.name, fields: { ...fields, csrf: formToken(formKey(ctx), 'logout', request.canonical) } });
        return sendPage(ctx, 200, html, request.postLogoutRedirectUri === undefined ? [] : [request.postLogoutRedirectUri]);
      }
      // No live session and no trusted request: nothing to end, and the cookies stay as they are.
      return back(ctx, request);
    }
    await endSession(deps, cookie);
    await revokeRefreshCookie(ctx);
    clearCookie(ctx, SESSION_COOKIE, 'Lax');
    clearCookie(ctx, REFRESH_COOKIE, 'Strict');
    back(ctx, request);
  };
  router.get('/oauth/logout', logout);
  router.post('/oauth/logout', logout);
  return router;
}
