import type { ParameterizedContext } from 'koa';
import type { Logger } from '../logging/logger';
import type { BearerCaller } from '../oauth/bearer-auth';
import type { OAuthParams } from '../oauth/params';

/** The bearer of a verified access token (account and admin APIs). */
export type Caller = BearerCaller;

/** What our middleware puts on ctx.state for everything downstream. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Aborts when the client goes away before the response is written (middleware/abort-signal.ts). */
  signal: AbortSignal;
  caller?: Caller;
  /** The parameters of an OAuth form post, parsed strictly once (see middleware/body.ts). */
  form?: OAuthParams;
  /** The client that authenticated at an OAuth endpoint, and with which secret: on the request's log line. */
  client?: { readonly id: string; readonly secretId: string | undefined };
}

export type AppContext = ParameterizedContext<AppState>;

/** Where a request came from, as events carry it (events/catalogue.ts Origin). */
export function originOf(ctx: AppContext): { readonly ip: string; readonly requestId: string } {
  return { ip: ctx.ip, requestId: ctx.state.requestId };
}
