import bodyParser from 'koa-bodyparser';
import coBody from 'co-body';
import type { Middleware } from 'koa';
import { parseFormParams } from '../../oauth/params';
import type { AppState } from '../context';

export const BODY_LIMIT = '16kb';

// RFC 8707: `resource` may be repeated; every other OAuth parameter must not be (RFC 6749 §3.2).
const MULTI_VALUED = new Set(['resource']);
const OAUTH_PATH = /^\/oauth\//;

const parser = bodyParser({
  enableTypes: ['form', 'json'],
  formLimit: BODY_LIMIT,
  jsonLimit: BODY_LIMIT,
  strict: true,
  // Let errors reach the error handler instead of being answered by the parser.
  onerror: (error) => {
    throw error;
  },
});

/**
 * Form and JSON bodies up to 16 KiB; a larger body is 413 (rendered by the error handler).
 * OAuth form posts (the hot endpoints) are read as text and parsed once, strictly, into
 * `ctx.state.form`; `ctx.request.body` gets the same parameters as an object, so a handler that
 * logs its body still has the secrets redacted by field name.
 */
export function body(): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.method === 'POST' && OAUTH_PATH.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      const raw = await coBody.text(ctx, { limit: BODY_LIMIT });
      ctx.state.form = parseFormParams(raw, MULTI_VALUED);
      (ctx.request as { body?: unknown }).body = Object.fromEntries(ctx.state.form);
      return next();
    }
    return parser(ctx, next);
  };
}
