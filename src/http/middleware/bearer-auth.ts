import type { Middleware } from 'koa';
import { hasScope } from '../../identity/scopes';
import type { AccessTokenChecker } from '../../oauth/access-token-check';
import { authenticateBearer, insufficientScopeError } from '../../oauth/bearer-auth';
import type { OAuthError } from '../../oauth/errors';
import type { AppState } from '../context';

/** Bearer authentication for the account and admin APIs (oauth/bearer-auth.ts); sets `ctx.state.caller`. */
export function bearerAuth(checker: AccessTokenChecker): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.state.caller = await authenticateBearer(checker, ctx.get('authorization') || undefined);
    await next();
  };
}

/** 403 insufficient_scope unless the caller holds one of `anyOf` (wildcards and admin count). */
export function requireScope(...anyOf: string[]): Middleware<AppState> {
  return async (ctx, next) => {
    const held = ctx.state.caller?.scopes ?? [];
    if (!anyOf.some((scope) => hasScope(held, scope))) throw insufficientScope(anyOf);
    await next();
  };
}

export function insufficientScope(anyOf: readonly string[]): OAuthError {
  return insufficientScopeError(anyOf, `requires one of the scopes: ${anyOf.join(' ')}`);
}
