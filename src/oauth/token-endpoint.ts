import { findClient, type Client } from '../identity/clients';
import { authenticateClient, type ClientAuthGuard, type ClientLookup } from './client-auth';
import { OAuthError } from './errors';
import type { GrantDeps, TokenResponse } from './grants/grant';
import { GRANTS } from './grants';
import { required, type OAuthParams } from './params';

export interface TokenRequest {
  readonly params: OAuthParams;
  readonly authorization: string | undefined;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** Aborts when the client goes away (see GrantRequest.signal). */
  readonly signal?: AbortSignal | undefined;
  /**
   * The refresh token came from the client's HttpOnly cookie (cookie mode), sent by a page of
   * this Origin: only a cookie-mode client, from one of its own origins, may use it.
   */
  readonly refreshFromCookie?: { readonly origin: string } | undefined;
}

export interface TokenResult {
  readonly response: TokenResponse;
  /** Who the tokens went to: cookie mode moves a refresh token into a cookie for its clients. */
  readonly client: Client;
}

/**
 * RFC 6749 §3.2: the token endpoint, independent of HTTP framework. `clients` finds clients (the
 * service's short-lived cache, CLIENT_CACHE_TTL); without it, the database is read each time.
 */
export async function handleTokenRequest(deps: GrantDeps & { readonly clients?: { readonly find: ClientLookup }; readonly clientAuth?: ClientAuthGuard }, request: TokenRequest): Promise<TokenResult> {
  const grantType = required(request.params, 'grant_type');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', `unsupported grant_type: ${grantType}`);
  const { client } = await authenticateClient(deps.clients?.find ?? ((id) => findClient(deps.db, id)), request.authorization, request.params, deps.clientAuth && { guard: deps.clientAuth, address: request.ip });
  if (!(client.grantTypes as readonly string[]).includes(grantType)) {
    throw new OAuthError('unauthorized_client', `client is not allowed the ${grantType} grant`);
  }
  // Cookie mode's CSRF rule, checked before the token is touched: the cookie travels with any
  // same-site request, so the page sending it must be one of the client's own origins.
  if (request.refreshFromCookie && !(client.refreshTokenInCookie && client.corsOrigins.includes(request.refreshFromCookie.origin))) {
    throw new OAuthError('invalid_request', 'a refresh token from the cookie needs a cookie-mode client and one of its registered origins');
  }
  const response = await grant.handle({ client, params: request.params, ip: request.ip, userAgent: request.userAgent, signal: request.signal }, deps);
  return { response, client };
}
