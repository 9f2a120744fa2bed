import { findClient } from '../identity/clients';
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
}

/**
 * RFC 6749 §3.2: the token endpoint, independent of HTTP framework. `clients` finds clients (the
 * service's short-lived cache, CLIENT_CACHE_TTL); without it, the database is read each time.
 */
export async function handleTokenRequest(deps: GrantDeps & { readonly clients?: { readonly find: ClientLookup }; readonly clientAuth?: ClientAuthGuard }, request: TokenRequest): Promise<TokenResponse> {
  const grantType = required(request.params, 'grant_type');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', `unsupported grant_type: ${grantType}`);
  const { client } = await authenticateClient(deps.clients?.find ?? ((id) => findClient(deps.db, id)), request.authorization, request.params, deps.clientAuth && { guard: deps.clientAuth, address: request.ip });
  if (!(client.grantTypes as readonly string[]).includes(grantType)) {
    throw new OAuthError('unauthorized_client', `client is not allowed the ${grantType} grant`);
  }
  return grant.handle({ client, params: request.params, ip: request.ip, userAgent: request.userAgent, signal: request.signal }, deps);
}
