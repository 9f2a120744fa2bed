import type Router from '@koa/router';
import type { Deps } from '../../deps';
import { appOrigins } from '../../identity/client-sign-in';
import { browserSessionFamilies, endBrowserSession, resumeBrowserSession, revokeRefreshToken } from '../../oauth/authorize/browser-session';
import { formToken, formTokenMatches } from '../html/csrf';
import { logoutLocation, parseLogoutRequest, type LogoutRequest } from '../../oauth/authorize/logout';
import { formRawParams, rawParams } from '../../oauth/authorize/request';
import type { HotPaths } from '../hot-paths';
import { originOf, type AppContext, type AppState } from '../context';
import { clearCookie, FORM_COOKIE, readCookie, REFRESH_COOKIE, SESSION_COOKIE } from '../cookies';
import { logoutConfirmPage, signedOutPage } from '../html/pages';
import { formKey, fromOwnPage, redirect, sendPage } from '../html/respond';
import { newRouter } from './router';
import { defineRoute, type RouteSpec } from '../openapi/route';
import { logoutRequestSchema } from '../../oauth/schemas';
import { z } from 'zod';

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

  function back(ctx: AppContext, request: LogoutRequest): void {
    const location = logoutLocation(request);
    if (location !== undefined) redirect(ctx, location);
    else sendPage(ctx, 200, signedOutPage(product));
  }

  const logout = async (ctx: AppContext) => {
    const posted = ctx.method === 'POST';
    const form = ctx.state.form ?? new Map<string, string>();
    const request = await parseLogoutRequest(posted ? formRawParams(form) : rawParams(ctx.querystring), hot.clients.find);
    const cookie = readCookie(ctx, SESSION_COOKIE);
    const confirmed = posted && form.get('confirm') === 'yes' && fromOwnPage(ctx, deps.config) && formTokenMatches(readCookie(ctx, FORM_COOKIE), 'logout', request.canonical, form.get('csrf'));
    const origin = ctx.get('origin');
    const fromApp = posted && !confirmed && request.client !== undefined && origin !== '' && appOrigins(request.client).has(origin);
    // A cross-site POST does not carry the SameSite=Lax session cookie: a top-level GET does.
    if (fromApp && cookie === undefined) return redirect(ctx, `${deps.config.issuer}/oauth/logout?${request.canonical}`);
    const signedIn = await resumeBrowserSession(deps, cookie, originOf(ctx));
    const tied = confirmed || (fromApp && (signedIn === undefined || (await browserSessionFamilies(deps, signedIn.session, request.client!.id)).length > 0));
    if (!tied) {
      if (signedIn) {
        const fields = Object.fromEntries(new URLSearchParams(request.canonical));
        const html = logoutConfirmPage({ productName: product, clientName: request.client?.name, fields: { ...fields, csrf: formToken(formKey(ctx), 'logout', request.canonical) } });
        return sendPage(ctx, 200, html, request.postLogoutRedirectUri === undefined ? [] : [request.postLogoutRedirectUri]);
      }
      // No live session and no trusted request: nothing to end, and the cookies stay as they are.
      return back(ctx, request);
    }
    await endBrowserSession(deps, cookie, originOf(ctx));
    // The user, on our page, signs out of everything here; an app ends only its own refresh token.
    const refreshToken = readCookie(ctx, REFRESH_COOKIE);
    await revokeRefreshToken(deps, refreshToken, confirmed ? undefined : request.client!.id);
    clearCookie(ctx, SESSION_COOKIE);
    if (confirmed || request.client?.refreshTokenInCookie) clearCookie(ctx, REFRESH_COOKIE);
    back(ctx, request);
  };
  const spec = {
    path: '/oauth/logout',
    summary: 'End the browser session (OpenID RP-Initiated Logout)',
    description: 'Done at once for a POST from one of the client\'s own origins; anything else is confirmed by the user on the service\'s page.',
    tags: ['Browser sign-in'],
    auth: { kind: 'none' },
    responses: {
      200: { description: 'the confirmation page, or the signed-out page', contentType: 'text/html' },
      303: { description: 'to post_logout_redirect_uri (with state)', headers: { Location: 'the post-logout redirect URI' } },
      400: { description: 'an error page: unknown client or post_logout_redirect_uri', contentType: 'text/html' },
    },
  } satisfies Omit<RouteSpec, 'method' | 'operationId'>;
  defineRoute(router, { ...spec, method: 'get', operationId: 'logout', query: { oauth: logoutRequestSchema }, examples: [{ summary: 'demo-spa-code signs out', query: { client_id: 'demo-spa-code', post_logout_redirect_uri: 'http://localhost:5173/' } }] }, logout);
  defineRoute(router, { ...spec, method: 'post', operationId: 'logoutPost', body: { form: logoutRequestSchema.extend({ confirm: z.literal('yes').optional(), csrf: z.string().optional() }) } }, logout);
  return router;
}
