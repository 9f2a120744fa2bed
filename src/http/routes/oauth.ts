import type Router from '@koa/router';
import { ScopesSupported } from '../../oauth/scopes-supported';
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
import { defineRoute } from '../openapi/route';
import { introspectionRequestSchema, introspectionResponseSchema, jwksSchema, metadataSchema, oauthErrorSchema, revocationRequestSchema, tokenRequestSchema, tokenResponseSchema, verifyQuerySchema } from '../../oauth/schemas';
import { DEMO_API_SECRET } from '../../identity/demo-data';

// Kept with a session for its owner to recognise; a bounded length keeps the store bounded.
const MAX_USER_AGENT = 256;

/** RFC 6749 §3.2: token requests are form-encoded POSTs, parsed strictly by the body middleware. */
function formParams(ctx: AppContext): OAuthParams {
  if (!ctx.state.form) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  return ctx.state.form;
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
  // Read as often as the clients are (CLIENT_CACHE_TTL), at least a second apart.
  const scopes = new ScopesSupported(deps.db, Math.max(1000, deps.config.clientCacheTtlSec * 1000));

  const oauthError = (description: string) => ({ description, schema: oauthErrorSchema });
  const unavailable = { ...oauthError('temporarily_unavailable: the token store cannot be reached, or too many logins wait for hashing'), headers: { 'Retry-After': 'seconds' } };

  defineRoute(router, {
    method: 'post',
    path: '/oauth/token',
    operationId: 'token',
    summary: 'Token endpoint (RFC 6749 §3.2)',
    description: 'One form per grant_type; a repeated parameter is invalid_request. Confidential clients authenticate with HTTP Basic or client_id and client_secret in the form (not both); public clients send client_id.',
    tags: ['OAuth'],
    auth: { kind: 'client' },
    body: { form: tokenRequestSchema() },
    responses: {
      200: { description: 'tokens (RFC 6749 §5.1); Cache-Control: no-store', schema: tokenResponseSchema },
      400: oauthError('invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target'),
      401: { ...oauthError('invalid_client: client authentication failed'), headers: { 'WWW-Authenticate': 'Basic, when Basic was used' } },
      413: oauthError('the body is larger than 16 KiB'),
      429: { ...oauthError('too many failed attempts, or logins in progress, from this address'), headers: { 'Retry-After': 'seconds' } },
      503: unavailable,
    },
    examples: [
      { summary: 'password grant (demo-spa, alice)', demo: true, body: { grant_type: 'password', client_id: 'demo-spa', username: 'alice', password: 'secret123', scope: 'items:read' } },
      { summary: 'client_credentials, client_secret_post (demo-api)', demo: true, body: { grant_type: 'client_credentials', client_id: 'demo-api', client_secret: DEMO_API_SECRET } },
      { summary: 'refresh_token grant', body: { grant_type: 'refresh_token', client_id: 'demo-spa', refresh_token: 'FAMILY.SECRET' } },
      { summary: 'authorization_code grant with PKCE', body: { grant_type: 'authorization_code', client_id: 'demo-spa-code', code: 'CODE', redirect_uri: 'http://localhost:5173/callback.html', code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' } },
    ],
  }, async (ctx) => {
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
        // The AbortSignal is made when first read: only the password grant waits on one.
        get signal() {
          return ctx.state.signal;
        },
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

  defineRoute(router, {
    method: 'post',
    path: '/oauth/introspect',
    operationId: 'introspect',
    summary: 'Token introspection (RFC 7662)',
    description: 'For confidential clients allowed to introspect. Anything not active, garbage included, is {"active": false}.',
    tags: ['OAuth'],
    auth: { kind: 'client' },
    body: { form: introspectionRequestSchema },
    responses: {
      200: { description: 'the token\'s state; Cache-Control: no-store', schema: introspectionResponseSchema },
      400: oauthError('invalid_request'),
      401: { ...oauthError('invalid_client: no or wrong client credentials'), headers: { 'WWW-Authenticate': 'Basic' } },
      403: oauthError('unauthorized_client: this client may not introspect'),
      503: unavailable,
    },
    examples: [{ summary: 'an unknown token (demo-api)', demo: true, body: { token: 'not-a-token', client_id: 'demo-api', client_secret: DEMO_API_SECRET } }],
  }, async (ctx) => {
    // RFC 7662 §2.2 responses carry token state: never cached.
    ctx.set('Cache-Control', 'no-store');
    const { response, caller } = await introspect(hotDeps, { params: formParams(ctx), authorization: ctx.get('authorization') || undefined, ip: ctx.ip, requestId: ctx.state.requestId });
    // The request's log line names the caller and which of its secrets it used.
    ctx.state.client = { id: caller.client.id, secretId: caller.secretId };
    ctx.body = response;
  });

  defineRoute(router, {
    method: 'post',
    path: '/oauth/revoke',
    operationId: 'revoke',
    summary: 'Token revocation (RFC 7009)',
    description: 'A refresh token ends its whole sign-in; an access token is refused from now on. Unknown, invalid or expired tokens get 200 too (RFC 7009 §2.2).',
    tags: ['OAuth'],
    auth: { kind: 'client' },
    body: { form: revocationRequestSchema },
    responses: {
      200: { description: 'revoked, or nothing to revoke (empty body)' },
      400: oauthError('invalid_request, unsupported_token_type, invalid_grant (a token of another client)'),
      401: { ...oauthError('invalid_client'), headers: { 'WWW-Authenticate': 'Basic, when Basic was used' } },
      503: unavailable,
    },
    examples: [{ summary: 'an unknown token (demo-spa)', body: { token: 'not-a-token', client_id: 'demo-spa' } }],
  }, async (ctx) => {
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
  defineRoute(router, {
    method: 'get',
    anyMethod: true,
    path: '/oauth/verify',
    operationId: 'verify',
    summary: 'Forward-auth for gateways (any method)',
    description: 'nginx auth_request, Traefik ForwardAuth, Envoy ext_authz: every method is answered alike. Only audience and scope, each at most once.',
    tags: ['OAuth'],
    auth: { kind: 'bearer' },
    query: { oauth: verifyQuerySchema },
    responses: {
      204: { description: 'valid: identity in X-Auth-* headers', headers: { 'X-Auth-Subject': 'user id or client id', 'X-Auth-Subject-Type': 'user or client', 'X-Auth-Username': 'user tokens only', 'X-Auth-Scopes': 'space-separated', 'X-Auth-Client-Id': 'the client', 'X-Auth-Audience': 'space-separated' } },
      400: oauthError('invalid_request: an unknown, repeated or empty parameter'),
      401: { ...oauthError('no or an invalid token'), headers: { 'WWW-Authenticate': 'Bearer realm="portcullis"' } },
      403: { ...oauthError('a token for another audience, or missing scopes'), headers: { 'WWW-Authenticate': 'Bearer error="invalid_token" or "insufficient_scope"' } },
      503: unavailable,
    },
    examples: [{ summary: 'no token', query: { audience: 'http://localhost:8080', scope: 'items:read' } }],
  }, async (ctx) => {
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

  defineRoute(router, {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'jwks',
    summary: 'Public signing keys (RFC 7517)',
    tags: ['Discovery'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'the JWK set; Cache-Control: public, max-age=JWKS_MAX_AGE', schema: jwksSchema } },
    examples: [{ summary: 'the keys' }],
  }, (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAgeSec}`);
    ctx.body = deps.keyring.current.jwks;
  });

  defineRoute(router, {
    method: 'get',
    path: '/.well-known/oauth-authorization-server',
    operationId: 'metadata',
    summary: 'Authorization server metadata (RFC 8414)',
    tags: ['Discovery'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'the metadata; Cache-Control: public, max-age=300', schema: metadataSchema } },
    examples: [{ summary: 'the metadata' }],
  }, async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = authorizationServerMetadata(deps.config, await scopes.get());
  });

  return router;
}
