import type { Middleware } from 'koa';
import { ThrottledError } from '../../identity/credential-throttle';
import { IdentityError, type IdentityErrorCode } from '../../identity/errors';
import { QueueFullError, QueueShareExceededError, RequestAbortedError } from '../../identity/semaphore';
import { OAuthError } from '../../oauth/errors';
import type { OutageLog } from '../../store/outage-log';
import { StoreUnavailableError } from '../../store/unavailable';
import { DATABASE_RETRY_AFTER_SEC, isDatabaseOutage } from '../../db/outage';
import { ApiError } from '../api-error';
import type { AppContext, AppState } from '../context';

interface ErrorBody {
  error: string;
  error_description: string;
  details?: Readonly<Record<string, string>>;
  request_id?: string;
}

const OAUTH_PATH = /^\/oauth\//;

// A broken rule of the identity model, as the account and admin APIs answer it.
const IDENTITY_STATUS: Readonly<Partial<Record<IdentityErrorCode, number>>> = {
  unknown_user: 404,
  unknown_client: 404,
  unknown_secret: 404,
  too_many_secrets: 409,
  last_secret: 409,
  managed_client: 409,
  duplicate_username: 409,
  duplicate_client: 409,
  forbidden_grant: 403,
  forbidden_target: 403,
};

// Codes for errors raised by koa and its body parser (http-errors), by status.
const GENERIC_CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  404: 'no such endpoint',
  405: 'method not allowed for this endpoint',
};

interface HttpLikeError {
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The one place that writes error bodies. OAuth endpoints answer in RFC 6749 §5.2 form
 * ({error, error_description}); every other endpoint gets the same shape with its own codes.
 * Unexpected failures become a generic 500 with the request id; the stack goes only to the log.
 */
export function errorHandler(database?: OutageLog): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      // Nothing answered (404), or the router refused the method (405): still a JSON body.
      if (ctx.body === undefined && ctx.status >= 400) {
        const status = ctx.status;
        render(ctx, status, { error: GENERIC_CODES[status] ?? 'invalid_request', error_description: DESCRIPTIONS[status] ?? 'request refused' });
      }
    } catch (thrown) {
      handle(ctx, thrown, database);
    }
  };
}

function handle(ctx: AppContext, thrown: unknown, database: OutageLog | undefined): void {
  const oauth = OAUTH_PATH.test(ctx.path);
  if (thrown instanceof StoreUnavailableError) {
    renderUnavailable(ctx, thrown);
    return;
  }
  if (thrown instanceof ThrottledError) {
    // Too many failed credentials from here (RFC 6585 §4): the same answer whether or not the
    // username or client exists; the password was not checked.
    ctx.set('Retry-After', String(thrown.retryAfterSec));
    render(ctx, 429, { error: 'temporarily_unavailable', error_description: `too many failed attempts; retry in ${thrown.retryAfterSec} s` });
    return;
  }
  if (thrown instanceof QueueFullError || thrown instanceof QueueShareExceededError) {
    renderOverloaded(ctx, thrown);
    return;
  }
  if (thrown instanceof RequestAbortedError) {
    // The client is gone and reads nothing; not a failure of ours, so no error line. 499 is
    // nginx's "client closed request", for the request log.
    ctx.state.log.debug({ event: 'http.client_gone' }, 'client went away; its queued work was dropped');
    render(ctx, 499, { error: 'client_closed_request', error_description: 'the client closed the connection' });
    return;
  }
  if (thrown instanceof OAuthError) {
    if (thrown.wwwAuthenticate) ctx.set('WWW-Authenticate', thrown.wwwAuthenticate);
    render(ctx, thrown.status, { error: thrown.code, error_description: thrown.description });
    return;
  }
  if (thrown instanceof IdentityError) {
    render(ctx, IDENTITY_STATUS[thrown.code] ?? 400, { error: thrown.code, error_description: thrown.message });
    return;
  }
  if (thrown instanceof ApiError) {
    render(ctx, thrown.status, {
      error: thrown.code,
      error_description: thrown.message,
      ...(thrown.details ? { details: thrown.details } : {}),
    });
    return;
  }
  const { status, expose, message } = (thrown ?? {}) as HttpLikeError;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Raised by koa or the body parser: client errors whose message is safe only when exposed.
    const description = expose === true && typeof message === 'string' ? message : 'bad request';
    const code = oauth ? 'invalid_request' : (GENERIC_CODES[status] ?? 'invalid_request');
    render(ctx, status, { error: code, error_description: description });
    return;
  }
  if (isDatabaseOutage(thrown)) {
    renderDatabaseUnavailable(ctx, thrown, database);
    return;
  }
  ctx.state.log.error({ event: 'http.unhandled_error', err: thrown }, 'unhandled error');
  render(ctx, 500, {
    error: 'server_error',
    error_description: 'internal server error',
    request_id: ctx.state.requestId,
  });
}

/**
 * Fail closed: without the token store nobody can say whether a token is revoked or a refresh
 * token still valid, so the answer is "not now" — never active, never a 401 that a gateway would
 * take as a verdict on the token. RFC 6749 §4.1.2.1 temporarily_unavailable, RFC 7009
 * §2.2.1 503 with Retry-After; the same body on every endpoint, including the RFC 6750 ones.
 * The outage itself is logged once by the store (`redis.unavailable`, store/outage-log.ts); each
 * refused request only at debug, with the store operation and the backend's message, never the
 * token.
 */
function renderUnavailable(ctx: AppContext, error: StoreUnavailableError): void {
  ctx.state.log.debug({ event: 'store.unavailable', operation: error.operation, reason: error.reason }, 'token store unavailable: request refused');
  ctx.set('Retry-After', String(error.retryAfterSec));
  render(ctx, 503, { error: 'temporarily_unavailable', error_description: 'the service cannot check token state right now; retry shortly' });
}

/**
 * The database cannot answer: an outage, not a bug, so the same "not now" as a token store
 * outage (503, Retry-After, RFC 6749 §4.1.2.1 temporarily_unavailable, on every endpoint) rather
 * than a 500. The outage is logged once (`database.unavailable`, OutageLog), each failed request
 * only at debug with the driver's message (which names hosts: never in the body).
 */
function renderDatabaseUnavailable(ctx: AppContext, error: Error, database: OutageLog | undefined): void {
  database?.down(error.message);
  ctx.state.log.debug({ event: 'database.request_failed', reason: error.message }, 'database unavailable: request failed');
  ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SEC));
  render(ctx, 503, { error: 'temporarily_unavailable', error_description: 'the service cannot reach its database right now; retry shortly' });
}

/**
 * The password-hash queue is full (503), or this address already holds its share of it (429):
 * the same answer from every endpoint that hashes a password (the grant, the account and admin
 * APIs), in RFC 6749 §5.2 form with RFC 6749 §4.1.2.1 temporarily_unavailable, and a
 * Retry-After (RFC 9110 §10.2.3; RFC 6585 §4 for 429).
 */
function renderOverloaded(ctx: AppContext, error: QueueFullError | QueueShareExceededError): void {
  ctx.set('Retry-After', String(error.retryAfterSec));
  if (error instanceof QueueShareExceededError) {
    ctx.state.log.info({ event: 'password.queue_share_exceeded', ip: error.owner }, 'password work refused: address holds its share of the queue');
    render(ctx, 429, { error: 'temporarily_unavailable', error_description: 'too many logins in progress from this address' });
    return;
  }
  ctx.state.log.warn({ event: 'password.queue_full' }, 'password work refused: hash queue full');
  render(ctx, 503, { error: 'temporarily_unavailable', error_description: 'too many logins in progress; retry shortly' });
}

function render(ctx: AppContext, status: number, body: ErrorBody): void {
  ctx.status = status;
  ctx.body = body;
  // RFC 6749 §5.1/§5.2: responses from the token endpoints must not be cached; errors elsewhere
  // are not worth caching either.
  ctx.set('Cache-Control', 'no-store');
  if (OAUTH_PATH.test(ctx.path)) ctx.set('Pragma', 'no-cache');
}
