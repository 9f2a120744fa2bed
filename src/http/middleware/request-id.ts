import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../logging/logger';
import type { AppState } from '../context';

// A caller's id is kept when it is short and plain, so traces join up across services; anything
// else (long, or with characters that could forge log lines) is replaced.
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(log: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const offered = ctx.get('x-request-id');
    const id = WELL_FORMED.test(offered) ? offered : randomUUID();
    ctx.state.requestId = id;
    // The request's logger is made when something first logs: most hot-path requests never do
    // (ACCESS_LOG), and a pino child per request was a measurable share of an introspection.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (child ??= log.child({ reqId: id })),
      set: (value: Logger) => {
        child = value;
      },
      enumerable: true,
      configurable: true,
    });
    ctx.set('X-Request-Id', id);
    await next();
  };
}
