import bodyParser from 'koa-bodyparser';
import coBody from 'co-body';
import type { Middleware } from 'koa';
import { OAuthError } from '../../oauth/errors';
import { parseFormParams } from '../../oauth/params';
import { MALFORMED_TEXT, malformedTextFields } from '../../text-input';
import { ApiError } from '../api-error';
import type { AppContext, AppState } from '../context';

export const BODY_LIMIT = '16kb';

// RFC 8707: `resource` may be repeated; every other OAuth parameter must not be (RFC 6749 §3.2).
const MULTI_VALUED = new Set(['resource']);
const OAUTH_PATH = /^\/oauth\//;

// `%00` is the only way a URL carries text PostgreSQL refuses: the router's and the query
// parser's decoders leave invalid UTF-8 (the only route to a lone surrogate) encoded or turn it
// into U+FFFD, and Node refuses a raw control character in the request line.
const ENCODED_NUL = /%00/;

/**
 * Route parameters (`/admin/users/:id`) and queries read without a schema (`/oauth/verify?scope`)
 * never pass validate.ts, so the URL is checked here, once for every route: a 400 naming the
 * path or the query parameter, before any of it can reach a database query. One regex test on
 * the raw URL is all a well-formed request pays.
 */
function refuseNulInUrl(ctx: AppContext): void {
  if (!ENCODED_NUL.test(ctx.url)) return;
  const oauth = OAUTH_PATH.test(ctx.path);
  if (ENCODED_NUL.test(ctx.path)) {
    if (oauth) throw new OAuthError('invalid_request', `the path ${MALFORMED_TEXT}`);
    throw new ApiError(400, 'invalid_request', 'the path is not valid', { path: MALFORMED_TEXT });
  }
  const fields = malformedTextFields(ctx.query, '(query)');
  const [first] = fields;
  if (first === undefined) return;
  if (oauth) {
    // RFC 6749 §5.2 names the parameter; a bad name itself is not echoed.
    const which = first === '(query)' ? 'a parameter name' : `parameter ${first.split('.')[0]}`;
    throw new OAuthError('invalid_request', `${which} ${MALFORMED_TEXT}`);
  }
  throw new ApiError(400, 'invalid_request', 'the query is not valid', Object.fromEntries(fields.map((field) => [field, MALFORMED_TEXT])));
}

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
 * logs its body still has the secrets redacted by field name. The URL is refused here too when
 * it carries a NUL (see refuseNulInUrl), as this is where every request's input is first read.
 */
export function body(): Middleware<AppState> {
  return async (ctx, next) => {
    refuseNulInUrl(ctx);
    if (ctx.method === 'POST' && OAUTH_PATH.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      const raw = await undamaged(ctx, () => coBody.text(ctx, { limit: BODY_LIMIT }));
      ctx.state.form = parseFormParams(raw, MULTI_VALUED);
      (ctx.request as { body?: unknown }).body = Object.fromEntries(ctx.state.form);
      return next();
    }
    // Only the parser's own failures are about the body: once it hands on, errors pass as they are.
    let parsed = false;
    return undamaged(
      ctx,
      () =>
        parser(ctx, () => {
          parsed = true;
          return next();
        }),
      () => !parsed,
    );
  };
}

/**
 * A body declared gzip, deflate or br that does not decompress is the client's mistake (400),
 * not ours: zlib's errors carry no HTTP status and would otherwise be a 500.
 */
async function undamaged<T>(ctx: AppContext, read: () => Promise<T>, reading: () => boolean = () => true): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR…) and brotli's decoder errors (ERR__ERROR_…).
    if (!reading() || typeof code !== 'string' || !/^(Z_|ERR__ERROR_)/.test(code) || (error as { status?: unknown }).status !== undefined) throw error;
    if (OAUTH_PATH.test(ctx.path)) throw new OAuthError('invalid_request', 'the body could not be decompressed (Content-Encoding)');
    throw new ApiError(400, 'invalid_request', 'the body could not be decompressed (Content-Encoding)', { body: 'not valid for its Content-Encoding' });
  }
}
