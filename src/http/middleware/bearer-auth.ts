import type { Middleware } from 'koa';
import { hasScope } from '../../identity/scopes';
import type { AccessTokenChecker } from '../../oauth/access-token-check';
import { bearerChallenge, parseBearer } from '../../oauth/bearer';
import { OAuthError } from '../../oauth/errors';
import type { AppState } from '../context';

const REALM = 'portcullis';

const invalidToken = (description: string) =>
  new OAuthError('invalid_token', description, { wwwAuthenticate: bearerChallenge(REALM, { code: 'invalid_token', description }) });

/**
 * RFC 6750 bearer authentication for the account and admin APIs, with the same check as
 * introspection (signature, expiry, revocation: one Redis round trip). Sets `ctx.state.caller`.
 */
export function bearerAuth(checker: AccessTokenChecker): Middleware<AppState> {
  return async (ctx, next) => {
    const bearer = parseBearer(ctx.get('authorization') || undefined);
    if (bearer.kind === 'missing') throw new OAuthError('invalid_token', 'a bearer token is required', { wwwAuthenticate: bearerChallenge(REALM) });
    if (bearer.kind === 'malformed') throw invalidToken('malformed Authorization header');
    const check = await checker.check(bearer.token);
    if (!check.active) throw invalidToken(check.reason === 'expired' ? 'the token has expired' : 'the token is invalid or revoked');
    const { claims } = check;
    ctx.state.caller = { claims, scopes: claims.scope === undefined ? [] : claims.scope.split(' ') };
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
  const scope = anyOf.join(' ');
  return new OAuthError('insufficient_scope', `requires one of the scopes: ${scope}`, { wwwAuthenticate: bearerChallenge(REALM, { code: 'insufficient_scope', scope }) });
}
