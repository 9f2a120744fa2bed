import type { Config } from '../../config/config';
import type { Deps } from '../../deps';
import type { Origin } from '../../events/catalogue';
import { checkLogin } from '../../identity/authenticate';
import { isThirdParty } from '../../identity/client-sign-in';
import { findConsent, grantConsent } from '../../identity/consents';
import { throttledCheck } from '../../identity/credential-throttle';
import type { PasswordWork } from '../../identity/passwords';
import { hasScope } from '../../identity/scopes';
import { newAuthorizationCode } from '../../tokens/authorization-code';
import { OAuthError } from '../errors';
import { grantScope } from '../scope-policy';
import { resumeBrowserSession, startBrowserSession, type SignedIn } from './browser-session';
import { RedirectableError, type AuthorizationRequest, type ErrorTarget } from './request';

// The authorization endpoint's decisions, independent of Koa: given a checked request and the
// browser's session, show the login form, show the consent page, or send the browser back to
// the app with a code or an error (RFC 6749 §4.1.2).

export type FlowDeps = Pick<Deps, 'db' | 'codes' | 'browserSessions' | 'families' | 'throttle' | 'passwords' | 'clock' | 'config' | 'log' | 'events'>;

export type Outcome =
  | { readonly kind: 'login'; readonly request: AuthorizationRequest }
  | { readonly kind: 'consent'; readonly request: AuthorizationRequest; readonly scope: readonly string[]; readonly username: string }
  | { readonly kind: 'redirect'; readonly location: string };

/** The app's redirect URI with the response parameters and `iss` (RFC 9207 §2), keeping its own query. */
export function responseLocation(deps: { readonly config: Pick<Config, 'issuer'> }, target: ErrorTarget, params: Readonly<Record<string, string>>): string {
  const url = new URL(target.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
  if (target.state !== undefined) url.searchParams.append('state', target.state);
  url.searchParams.append('iss', deps.config.issuer);
  return url.href;
}

export function errorLocation(deps: { readonly config: Pick<Config, 'issuer'> }, error: RedirectableError): string {
  return responseLocation(deps, error.target, { error: error.error.code, error_description: error.error.description });
}

/**
 * GET /oauth/authorize with a checked request: single sign-on when the browser's session is
 * live (and `prompt` does not ask for the form), else the login form; `prompt=none` never shows
 * a page (OpenID Connect Core §3.1.2.6 login_required / consent_required).
 */
export async function authorize(deps: FlowDeps, request: AuthorizationRequest, cookie: string | undefined, origin: Origin): Promise<Outcome> {
  const signedIn = await resumeBrowserSession(deps, cookie, origin);
  if (!signedIn) {
    if (request.prompt.has('none')) throw new RedirectableError(new OAuthError('login_required', 'the user is not signed in'), request);
    return { kind: 'login', request };
  }
  if (request.prompt.has('login')) return { kind: 'login', request };
  return proceed(deps, request, signedIn, origin);
}

/** The user's password was wrong (or they may not sign in): the form again, one message for every cause. */
export class SignInFailed extends Error {
  constructor() {
    super('sign-in failed');
    this.name = 'SignInFailed';
  }
}

/**
 * POST /oauth/login: the password check under the same throttle and hash queue as the password
 * grant (identity/credential-throttle.ts), then a browser session (browser-session.ts: a new
 * one, or this user's renewed), then on as after GET.
 */
export async function signIn(
  deps: FlowDeps,
  request: AuthorizationRequest,
  credentials: { readonly username: string; readonly password: string },
  context: { readonly ip: string | undefined; readonly requestId?: string | undefined; readonly work: PasswordWork; readonly previousCookie: string | undefined },
): Promise<{ outcome: Outcome; cookie: string }> {
  const now = new Date(deps.clock.now());
  const user = await throttledCheck(deps, { name: credentials.username, address: context.ip, clientId: request.client.id, requestId: context.requestId }, async () => {
    const { user: found, userExists } = await checkLogin(deps, credentials.username, credentials.password, now, context.work);
    return { ok: found !== undefined && !found.disabled, value: found, known: userExists };
  });
  if (!user || user.disabled) {
    if (user) deps.events.emit('login.disabled', { userId: user.id, clientId: request.client.id, ip: context.ip, requestId: context.requestId });
    throw new SignInFailed();
  }
  const origin: Origin = { ip: context.ip, requestId: context.requestId };
  const { cookie, signedIn } = await startBrowserSession(deps, user.id, context.previousCookie, origin);
  deps.events.emit('login.succeeded', { via: 'login_page', userId: user.id, clientId: request.client.id, ...origin });
  try {
    return { outcome: await proceed(deps, request, signedIn, origin), cookie };
  } catch (error) {
    // The request fails after all (a scope this user does not hold): a new session is never
    // handed over, so it ends (a renewed one stays: the browser holds its cookie).
    if (cookie !== context.previousCookie) await deps.browserSessions.endBrowserSession(signedIn.session.id, deps.clock.now());
    throw error;
  }
}

/** The scope for this user: asked-for scopes they do not hold are invalid_scope, as in the password grant. */
function userScope(request: AuthorizationRequest, signedIn: SignedIn): string[] {
  try {
    return grantScope(request.requestedScope, request.client.defaultScopes, [signedIn.user.scopes, request.client.scopes]);
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectableError(error, request);
    throw error;
  }
}

/** Consent when the client needs it and the user has not yet granted this scope, else a code. */
export async function proceed(deps: FlowDeps, request: AuthorizationRequest, signedIn: SignedIn, origin: Origin): Promise<Outcome> {
  const scope = userScope(request, signedIn);
  if (isThirdParty(request.client)) {
    const granted = (await findConsent(deps.db, signedIn.user.id, request.client.id)) ?? [];
    // prompt=consent asks again even when the user already said yes (OpenID Connect Core §3.1.2.1).
    if (request.prompt.has('consent') || !scope.every((name) => hasScope(granted, name))) {
      if (request.prompt.has('none')) throw new RedirectableError(new OAuthError('consent_required', 'the user has not approved this client'), request);
      return { kind: 'consent', request, scope, username: signedIn.user.username };
    }
  }
  return { kind: 'redirect', location: await issueCode(deps, request, signedIn, scope, origin) };
}

/** RFC 6749 §4.1.2: a code bound to everything the token request must match, stored as a hash. */
export async function issueCode(deps: FlowDeps, request: AuthorizationRequest, signedIn: SignedIn, scope: readonly string[], origin: Origin): Promise<string> {
  const now = deps.clock.now();
  const { code, key } = newAuthorizationCode({ clientId: request.client.id, redirectUri: request.redirectUri, codeChallenge: request.codeChallenge });
  await deps.codes.saveCode(
    key,
    {
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      userId: signedIn.user.id,
      username: signedIn.user.username,
      scope,
      audience: request.audience,
      browserSessionId: signedIn.session.id,
      authTime: signedIn.session.authenticatedAt,
      expiresAt: now + deps.config.browser.authCodeTtlSec * 1000,
    },
    now,
  );
  deps.events.emit('code.issued', { userId: signedIn.user.id, clientId: request.client.id, scope: scope.join(' '), ...origin });
  return responseLocation(deps, request, { code });
}

/** POST /oauth/consent: the user's answer on the consent page, remembered when it is yes. */
export async function answerConsent(deps: FlowDeps, request: AuthorizationRequest, cookie: string | undefined, answer: { readonly allow: boolean; readonly shown: readonly string[] }, origin: Origin): Promise<Outcome> {
  const signedIn = await resumeBrowserSession(deps, cookie, origin);
  if (!signedIn) return { kind: 'login', request };
  // RFC 6749 §4.1.2.1: the resource owner denied the request.
  if (!answer.allow) throw new RedirectableError(new OAuthError('access_denied', 'the user denied the request'), request);
  const scope = userScope(request, signedIn);
  // A yes covers what the page showed: a scope gained since (a role added) is asked about again.
  if (!scope.every((name) => answer.shown.includes(name))) return { kind: 'consent', request, scope, username: signedIn.user.username };
  await grantConsent(deps.db, signedIn.user.id, request.client.id, scope, new Date(deps.clock.now()));
  deps.events.emit('consent.granted', { userId: signedIn.user.id, clientId: request.client.id, scope: scope.join(' '), ...origin });
  return { kind: 'redirect', location: await issueCode(deps, request, signedIn, scope, origin) };
}
