import type { Middleware } from 'koa';
import type { PasswordWork } from '../../identity/passwords';
import type { AppContext, AppState } from '../context';

/**
 * One AbortSignal per request (ctx.state.signal) that aborts when the client goes away before
 * its response is written. Work that waits its turn — a password hash in the argon2 queue —
 * is dropped instead of being done for nobody: during a login storm, abandoned requests would
 * otherwise hold the queue and delay every real login behind them.
 */
export function abortSignal(): Middleware<AppState> {
  return async (ctx, next) => {
    // Made when first asked for (the password paths): the verification hot paths never ask, and
    // a controller and a 'close' listener per request were part of their cost (issue 17).
    let controller: AbortController | undefined;
    Object.defineProperty(ctx.state, 'signal', {
      get: () => {
        if (controller === undefined) {
          controller = new AbortController();
          const res = ctx.res;
          // 'close' also follows a response written in full; only an unfinished one means "gone".
          if (res.closed) {
            if (!res.writableFinished) controller.abort();
          } else {
            const ended = controller;
            res.once('close', () => {
              if (!res.writableFinished) ended.abort();
            });
          }
        }
        return controller.signal;
      },
      enumerable: true,
      configurable: true,
    });
    await next();
  };
}

/** The password work of this request: dropped when its client leaves, charged to its address. */
export function passwordWork(ctx: AppContext): PasswordWork {
  return { signal: ctx.state.signal, owner: ctx.ip };
}
