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
    ctx.state.log = log.child({ reqId: id });
    ctx.set('X-Request-Id', id);
    await next();
  };
}
