import type { ParameterizedContext } from 'koa';
import type { Logger } from '../logging/logger';
import type { OAuthParams } from '../oauth/params';
import type { AccessTokenClaims } from '../tokens/verify-access-token';

/** The bearer of a verified access token (account and admin APIs). */
export interface Caller {
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly string[];
}

/** What our middleware puts on ctx.state for everything downstream. */
export interface AppState {
  requestId: string;
  log: Logger;
  caller?: Caller;
  /** The parameters of an OAuth form post, parsed strictly once (see middleware/body.ts). */
  form?: OAuthParams;
}

export type AppContext = ParameterizedContext<AppState>;
