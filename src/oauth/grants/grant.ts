import { z } from 'zod';
import type { Deps } from '../../deps';
import type { ClientWithSecret } from '../../identity/clients';
import type { OAuthParams } from '../params';

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
}

/** The §5.1 body for an issued access token; `scope` is left out when none was granted. */
export function tokenResponse(issued: { token: string; expiresIn: number }, scope: readonly string[], refreshToken?: string): TokenResponse {
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ...(scope.length > 0 ? { scope: scope.join(' ') } : {}),
    ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
  };
}

export interface GrantRequest {
  readonly client: ClientWithSecret;
  /** Which of the client's secrets authenticated it: logged with every token issued, never the secret. */
  readonly secretId?: string | undefined;
  readonly params: OAuthParams;
  readonly ip: string | undefined;
  /** The request id, on this grant's events. */
  readonly requestId?: string | undefined;
  /** The User-Agent of the request, already cut to a bounded length. */
  readonly userAgent: string | undefined;
  /** Aborts when the client goes away: a login still waiting for its hash is dropped. */
  readonly signal?: AbortSignal | undefined;
}

/** What the token endpoint hands every grant; each grant's `handle` declares the part it uses. */
export type GrantDeps = Pick<Deps, 'db' | 'families' | 'codes' | 'browserSessions' | 'revocations' | 'throttle' | 'passwords' | 'keyring' | 'clock' | 'config' | 'log' | 'events'>;

/** One grant type: the token endpoint looks it up by `grant_type`. */
export interface Grant {
  readonly type: string;
  /**
   * The form parameters it reads besides client authentication (node-oidc-provider's
   * `parameters`): the OpenAPI document's token request. `handle` checks them itself, with
   * RFC 6749 §5.2 errors.
   */
  readonly parameters: z.ZodObject;
  handle(request: GrantRequest, deps: GrantDeps): Promise<TokenResponse>;
}

/** RFC 6749 §3.3: space-separated scope tokens. */
export const scopeParameter = z.string().describe('space-separated scopes (RFC 6749 §3.3); default: the client\'s default scopes');
/** RFC 8707: the resource the token is for (its `aud`). */
export const resourceParameter = z.string().describe('RFC 8707 resource indicator: the audience of the token; one of the client\'s audiences');
