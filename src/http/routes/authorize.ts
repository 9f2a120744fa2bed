import type Router from '@koa/router';
import type { Deps } from '../../deps';
import { ThrottledError } from '../../identity/credential-throttle';
import { QueueFullError, QueueShareExceededError } from '../../identity/semaphore';
import { formToken, formTokenMatches } from '../html/csrf';
import { answerConsent, authorize, signIn, SignInFailed, type Outcome } from '../../oauth/authorize/flow';
import { parseAuthorizationRequest, rawParams, type AuthorizationRequest } from '../../oauth/authorize/request';
import type { HotPaths } from '../hot-paths';
import { originOf, type AppContext, type AppState } from '../context';
import { FORM_COOKIE, readCookie, SESSION_COOKIE, setCookie } from '../cookies';
import { consentPage, errorPage, loginPage } from '../html/pages';
import { formKey, fromOwnPage, redirect, sendPage } from '../html/respond';
import { passwordWork } from '../middleware/abort-signal';
import { newRouter } from './router';
import { defineRoute } from '../openapi/route';
import { authorizationRequestSchema } from '../../oauth/schemas';
import { z } from 'zod';

const page = (description: string) => ({ description, contentType: 'text/html' });
const toClient = { description: 'to the client\'s redirect_uri with code, state and iss (RFC 9207), or an RFC 6749 §4.1.2.1 error', headers: { Location: 'the redirect URI' } };
// The hosted pages' own forms: the service's pages post them, never an API client.
const pageForm = (fields: Record<string, z.ZodType>) => ({ form: z.object({ request: z.string().describe('the authorization request, as the page carries it'), csrf: z.string(), ...fields }) });

// RFC 6749 §4.1: the authorization endpoint and the hosted login and consent pages. The
// protocol decisions are in oauth/authorize/; this file reads cookies and forms and writes pages.

const GENERIC_FAILURE = 'The username or password is not right.';

export function authorizeRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = newRouter();
  const product = deps.config.browser.productName;

  const parse = (query: string) => parseAuthorizationRequest(rawParams(query), hot.clients.find, deps.config.defaultAudience);

  function showLogin(ctx: AppContext, request: AuthorizationRequest, status = 200, error?: string, username?: string): void {
    const key = formKey(ctx);
    const html = loginPage({ productName: product, clientName: request.client.name, request: request.query, csrf: formToken(key, 'login', request.query), username: username ?? request.loginHint, error });
    sendPage(ctx, status, html, [request.redirectUri]);
  }

  async function show(ctx: AppContext, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'redirect') return redirect(ctx, outcome.location);
    if (outcome.kind === 'login') return showLogin(ctx, outcome.request);
    const key = formKey(ctx);
    const { request } = outcome;
    const shown = outcome.scope.join(' ');
    // The token covers the scope shown too, so the answer is about exactly that (answerConsent).
    const html = consentPage({ productName: product, clientName: request.client.name, username: outcome.username, scope: outcome.scope, request: request.query, shown, csrf: formToken(key, 'consent', `${request.query}\n${shown}`) });
    sendPage(ctx, 200, html, [request.redirectUri]);
  }

  /** The request a form carries, checked again in full: the form is the browser's to change. */
  async function postedRequest(ctx: AppContext, purpose: 'login' | 'consent'): Promise<{ request: AuthorizationRequest; fields: ReadonlyMap<string, string>; valid: boolean }> {
    const fields = ctx.state.form ?? new Map<string, string>();
    const request = await parse(fields.get('request') ?? '');
    const covered = purpose === 'consent' ? `${request.query}\n${fields.get('shown') ?? ''}` : request.query;
    const valid = fromOwnPage(ctx, deps.config) && formTokenMatches(readCookie(ctx, FORM_COOKIE), purpose, covered, fields.get('csrf'));
    if (!valid) ctx.state.log.info({ event: 'authorize.csrf_refused', purpose, clientId: request.client.id }, 'form post refused: not from our page, or its token does not fit');
    return { request, fields, valid };
  }

  defineRoute(router, {
    method: 'get',
    path: '/oauth/authorize',
    operationId: 'authorize',
    summary: 'Authorization endpoint (RFC 6749 §4.1, PKCE S256)',
    description: 'Opens the hosted login page (or signs in at once with a live browser session) and redirects to the client with a code. Errors about the client or its redirect_uri are shown on a page; the rest are redirected to the client.',
    tags: ['Browser sign-in'],
    auth: { kind: 'none' },
    query: { oauth: authorizationRequestSchema },
    responses: { 200: page('the login or consent page'), 303: toClient, 400: page('an error page: unknown client or redirect_uri') },
    examples: [{ summary: 'demo-spa-code with PKCE', query: { response_type: 'code', client_id: 'demo-spa-code', redirect_uri: 'http://localhost:5173/callback.html', scope: 'items:read', state: 'af0ifjsldkj', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' } }],
  }, async (ctx) => {
    const request = await parse(ctx.querystring);
    await show(ctx, await authorize(deps, request, readCookie(ctx, SESSION_COOKIE), originOf(ctx)));
  });

  defineRoute(router, {
    method: 'post',
    path: '/oauth/login',
    operationId: 'loginForm',
    summary: 'The login page\'s form post',
    description: 'Posted by the hosted login page (same origin, CSRF token); not an API.',
    tags: ['Browser sign-in'],
    auth: { kind: 'none' },
    body: pageForm({ username: z.string(), password: z.string() }),
    responses: { 200: page('the login page again (wrong credentials), or the consent page'), 303: toClient, 400: page('an error page'), 403: page('expired or foreign form'), 429: page('too many attempts'), 503: page('too many sign-ins in progress') },
  }, async (ctx) => {
    const { request, fields, valid } = await postedRequest(ctx, 'login');
    // A stale or forged form: the form again with a fresh token (a real user just retries).
    if (!valid) return showLogin(ctx, request, 403, 'This sign-in form has expired. Please try again.');
    const username = fields.get('username') ?? '';
    const password = fields.get('password') ?? '';
    if (username === '' || password === '') return showLogin(ctx, request, 400, 'Enter your username and password.', username || undefined);
    try {
      const { outcome, cookie } = await signIn(deps, request, { username, password }, { ip: ctx.ip, requestId: ctx.state.requestId, work: passwordWork(ctx), previousCookie: readCookie(ctx, SESSION_COOKIE) });
      setCookie(ctx, SESSION_COOKIE, cookie, deps.config.browser.sessionTtlSec);
      await show(ctx, outcome);
    } catch (error) {
      if (error instanceof SignInFailed) return showLogin(ctx, request, 200, GENERIC_FAILURE, username);
      if (error instanceof ThrottledError) {
        ctx.set('Retry-After', String(error.retryAfterSec));
        return showLogin(ctx, request, 429, `Too many failed attempts. Try again in ${error.retryAfterSec} seconds.`, username);
      }
      if (error instanceof QueueFullError || error instanceof QueueShareExceededError) {
        ctx.set('Retry-After', String(error.retryAfterSec));
        return showLogin(ctx, request, error instanceof QueueFullError ? 503 : 429, 'Too many sign-ins are in progress. Please try again in a moment.', username);
      }
      throw error;
    }
  });

  defineRoute(router, {
    method: 'post',
    path: '/oauth/consent',
    operationId: 'consentForm',
    summary: 'The consent page\'s form post',
    description: 'Posted by the hosted consent page (same origin, CSRF token); not an API.',
    tags: ['Browser sign-in'],
    auth: { kind: 'none' },
    body: pageForm({ decision: z.enum(['allow', 'deny']), shown: z.string().describe('the scopes the page showed') }),
    responses: { 200: page('the login page, when the browser session ended meanwhile'), 303: toClient, 400: page('an error page'), 403: page('expired or foreign form') },
  }, async (ctx) => {
    const { request, fields, valid } = await postedRequest(ctx, 'consent');
    if (!valid) return sendPage(ctx, 403, errorPage(product, 'Request refused', 'This page has expired. Go back to the app and try again.'));
    const decision = fields.get('decision');
    if (decision !== 'allow' && decision !== 'deny') return sendPage(ctx, 400, errorPage(product, 'Request refused', 'Choose Allow or Deny.'));
    const shown = (fields.get('shown') ?? '').split(' ').filter((name) => name !== '');
    await show(ctx, await answerConsent(deps, request, readCookie(ctx, SESSION_COOKIE), { allow: decision === 'allow', shown }, originOf(ctx)));
  });

  return router;
}
