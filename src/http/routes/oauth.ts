import type Router from '@koa/router';
import { newRouter } from './router';
import type { Deps } from '../../deps';
import { authorizationServerMetadata } from '../../oauth/metadata';
import { OAuthError } from '../../oauth/errors';
import type { OAuthParams } from '../../oauth/params';
import { forwardAuth } from '../../oauth/forward-auth';
import { introspect } from '../../oauth/introspection';
import { revoke } from '../../oauth/revocation';
import { handleTokenRequest, type BrowserContext } from '../../oauth/token-endpoint';
import { clearCookie, readCookie, REFRESH_COOKIE, setCookie } from '../cookies';
import type { HotPaths } from '../hot-paths';
import type { AppContext, AppState } from '../context';

// Kept with a session for its owner to recognise; a bounded length keeps the store bounded.
const MAX_USER_AGENT = 256;

/** RFC 6749 §3.2: token requests are form-encoded POSTs, parsed strictly by the body middleware. */
function formParams(ctx: AppContext): OAuthParams {
  if (!ctx.state.form) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  return ctx.state.form;
}

async function scopesSupported(deps: Deps): Promise<string[]> {
  const result = await deps.db.raw<{ rows: Array<{ scope: string }> }>(
    'select scope from role_scopes union select unnest(scopes) from clients order by 1',
  );
  return result.rows.map((row) => row.scope);
}

/** The header every token request of a cookie-mode client carries (a cross-site form cannot send a custom header). */
export const REFRESH_COOKIE_HEADER = 'x-portcullis-refresh';

/**
 * Cookie mode: a refresh grant without `refresh_token` takes it from the HttpOnly cookie, when
 * the request says so with the custom header; the token endpoint checks the rest once it knows
 * the client (oauth/token-endpoint.ts cookieModeProblem).
 */
function withRefreshCookie(ctx: AppContext): { params: OAuthParams; browser: BrowserContext } {
  const params = formParams(ctx);
  const cookieHeader = ctx.get(REFRESH_COOKIE_HEADER) === 'cookie';
  const browser = { origin: ctx.get('origin') || undefined, cookieHeader, refreshFromCookie: false };
  if (params.get('grant_type') !== 'refresh_token' || params.has('refresh_token') || !cookieHeader) return { params, browser };
  const cookie = readCookie(ctx, REFRESH_COOKIE);
  if (cookie === undefined) throw new OAuthError('invalid_request', 'missing parameter: refresh_token (and no refresh-token cookie)');
  return { params: new Map([...params, ['refresh_token', cookie]]), browser: { ...browser, refreshFromCookie: true } };
}

export function oauthRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = newRouter();
  const hotDeps = { ...deps, ...hot };

  router.post('/oauth/token', async (ctx) => {
    // RFC 6749 §5.1: token responses must not be cached.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const { params, browser } = withRefreshCookie(ctx);
    let result;
    try {
      result = await handleTokenRequest(hotDeps, {
        params,
        authorization: ctx.get('authorization') || undefined,
        ip: ctx.ip,
        requestId: ctx.state.requestId,
        userAgent: ctx.get('user-agent').slice(0, MAX_USER_AGENT) || undefined,
        signal: ctx.state.signal,
        browser,
      });
    } catch (error) {
      // A refresh token that will never work again is not kept in the browser.
      if (browser.refreshFromCookie && error instanceof OAuthError && error.code === 'invalid_grant') clearCookie(ctx, REFRESH_COOKIE);
      throw error;
    }
    const { response, client, refreshTokenLifetimeSec } = result;
    ctx.state.client = { id: client.id, secretId: result.secretId };
    if (client.refreshTokenInCookie && response.refresh_token !== undefined) {
      // Cookie mode: the refresh token never reaches the page's script (XSS cannot read it).
      const { refresh_token: refreshToken, ...rest } = response;
      setCookie(ctx, REFRESH_COOKIE, refreshToken, refreshTokenLifetimeSec);
      ctx.body = rest;
      return;
    }
    ctx.body = response;
  });

  router.post('/oauth/introspect', async (ctx) => {
    // RFC 7662 §2.2 responses carry token state: never cached.
    ctx.set('Cache-Control', 'no-store');
    const { response, caller } = await introspect(hotDeps, { params: formParams(ctx), authorization: ctx.get('authorization') || undefined, ip: ctx.ip, requestId: ctx.state.requestId });
    // The request's log line names the caller and which of its secrets it used.
    ctx.state.client = { id: caller.client.id, secretId: caller.secretId };
    ctx.body = response;
  });

  router.post('/oauth/revoke', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    await revoke(hotDeps, { params: formParams(ctx), authorization: ctx.get('authorization') || undefined, ip: ctx.ip, requestId: ctx.state.requestId }, (caller) => {
      ctx.state.client = { id: caller.client.id, secretId: caller.secretId };
    });
    // RFC 7009 §2.2: 200, and the content of the body is ignored by the client.
    ctx.status = 200;
    ctx.body = '';
  });

  // Gateways send their subrequest with the original request's method (nginx auth_request,
  // Traefik, Envoy), so every method is answered the same.
  router.all('/oauth/verify', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    // A gateway's configuration names the checks; a typo (`Audience=`, `scope[]=`) or an empty
    // variable must fail loudly, not switch the check off.
    const unknown = Object.keys(ctx.query).filter((name) => name !== 'scope' && name !== 'audience');
    if (unknown.length > 0) throw new OAuthError('invalid_request', `unknown parameter: ${unknown.map((name) => JSON.stringify(name.slice(0, 40))).join(', ')} (only scope and audience)`);
    const { scope, audience } = ctx.query;
    if (Array.isArray(scope)) throw new OAuthError('invalid_request', 'scope given more than once');
    if (Array.isArray(audience)) throw new OAuthError('invalid_request', 'audience given more than once');
    if (scope !== undefined && scope.trim() === '') throw new OAuthError('invalid_request', 'scope is empty: leave it out to check no scope');
    ctx.set(await forwardAuth(hot.checker, { authorization: ctx.get('authorization') || undefined, scope, audience }));
    ctx.status = 204;
  });

  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAgeSec}`);
    ctx.body = deps.keyring.current.jwks;
  });

  router.get('/.well-known/oauth-authorization-server', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = authorizationServerMetadata(deps.config, await scopesSupported(deps));
  });

  return router;
}
