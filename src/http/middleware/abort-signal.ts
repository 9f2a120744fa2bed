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
    const controller = new AbortController();
    ctx.state.signal = controller.signal;
    // 'close' also follows a response written in full; only an unfinished one means "gone".
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) controller.abort();
    });
    await next();
  };
}

/** The password work of this request: dropped when its client leaves, charged to its address. */
export function passwordWork(ctx: AppContext): PasswordWork {
  return { signal: ctx.state.signal, owner: ctx.ip };
}
