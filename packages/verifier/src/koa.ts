import type { Middleware } from 'koa';
import { guards, type Guards } from './guards.js';
import type { RequestVerifier, Requirement } from './request-verifier.js';
import type { AuthInfo } from './types.js';

// koa is a type here only: the middleware uses nothing of Koa's at run time.

export interface AuthState {
  auth?: AuthInfo;
}

export type KoaGuards = Guards<Middleware<AuthState>>;

/** Puts the caller on `ctx.state.auth`, or answers the refusal and stops the chain. */
export function koaGuards(verifier: RequestVerifier): KoaGuards {
  const middleware = (requirement: Requirement): Middleware<AuthState> => async (ctx, next) => {
    const result = await verifier.verify(ctx.request, requirement);
    if (!result.ok) {
      ctx.set(result.headers);
      ctx.status = result.status;
      ctx.body = result.body;
      return;
    }
    if (result.auth) ctx.state.auth = result.auth;
    await next();
  };
  return guards(middleware, middleware);
}
