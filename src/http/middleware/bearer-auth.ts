import type { Middleware } from 'koa';
import { isThirdParty } from '../../identity/client-sign-in';
import { hasScope } from '../../identity/scopes';
import type { AccessTokenChecker } from '../../oauth/access-token-check';
import type { ClientLookup } from '../../oauth/client-auth';
import { authenticateBearer, bearerRequiredError, insufficientScopeError, invalidTokenError } from '../../oauth/bearer-auth';
import { audienceIncludes } from '../../tokens/audience';
import { subjectType } from '../../tokens/subject-type';
import { OAuthError } from '../../oauth/errors';
import type { AppContext, AppState, Caller } from '../context';

/**
 * Bearer authentication for the account and admin APIs (oauth/bearer-auth.ts); sets
 * `ctx.state.caller`. RFC 9068 §4: a token whose `aud` does not name this API was issued for
 * another resource service and is refused here (RFC 6750 §3.1 invalid_token).
 */
export function bearerAuth(checker: AccessTokenChecker, audience: string): Middleware<AppState> {
  return async (ctx, next) => {
    const caller = await authenticateBearer(checker, ctx.get('authorization') || undefined);
    if (!audienceIncludes(caller.claims.aud, audience)) throw invalidTokenError('the token was not issued for this API (aud)');
    ctx.state.caller = caller;
    await next();
  };
}

/** The endpoints about "me" need a user: a client's own token (client_credentials) carries none. */
export function requireUser(): Middleware<AppState> {
  return async (ctx, next) => {
    const { claims } = callerOf(ctx);
    if (subjectType(claims) !== 'user') throw invalidTokenError('this endpoint needs a user\'s token; a client\'s own token carries no user');
    await next();
  };
}

/**
 * The authenticated caller. A handler reached without one is a wiring fault, never an anonymous
 * request: it answers 401 instead of running (defence in depth behind bearerAuth).
 */
export function callerOf(ctx: AppContext): Caller {
  const { caller } = ctx.state;
  if (!caller) throw bearerRequiredError();
  return caller;
}

/** 403 insufficient_scope unless the caller holds one of `anyOf` (wildcards and admin count). */
export function requireScope(...anyOf: string[]): Middleware<AppState> {
  return async (ctx, next) => {
    const held = callerOf(ctx).scopes;
    if (!anyOf.some((scope) => hasScope(held, scope))) throw insufficientScope(anyOf);
    await next();
  };
}

export function insufficientScope(anyOf: readonly string[]): OAuthError {
  return insufficientScopeError(anyOf, `requires one of the scopes: ${anyOf.join(' ')}`);
}

/**
 * The account API for a third-party client (one whose users are asked for consent): its token
 * is for its own API calls, so it reaches only the profile, `/users/me` itself, and only with
 * what the user approved: `users:read:own` to read it, `users:write:own` to change it. The
 * user's logins in other apps, their consents and their password are for first-party clients,
 * the account's own apps, which keep full self-service.
 */
export function thirdPartyAccountScope(findClient: ClientLookup): Middleware<AppState> {
  return async (ctx, next) => {
    const { claims, scopes } = callerOf(ctx);
    const client = await findClient(claims.client_id);
    if (!client || isThirdParty(client)) {
      if (ctx.path !== '/users/me') throw insufficientScopeError([], 'only the user\'s own apps (first-party clients) may use this endpoint');
      const needed = ctx.method === 'GET' || ctx.method === 'HEAD' ? 'users:read:own' : 'users:write:own';
      if (!hasScope(scopes, needed)) throw insufficientScope([needed]);
    }
    await next();
  };
}
