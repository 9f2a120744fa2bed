import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';

export const BODY_LIMIT = '16kb';

/** Form and JSON bodies up to 16 KiB; a larger body is 413 (rendered by the error handler). */
export function body(): Middleware {
  return bodyParser({
    enableTypes: ['form', 'json'],
    formLimit: BODY_LIMIT,
    jsonLimit: BODY_LIMIT,
    strict: true,
    // Let errors reach the error handler instead of being answered by the parser.
    onerror: (error) => {
      throw error;
    },
  });
}
