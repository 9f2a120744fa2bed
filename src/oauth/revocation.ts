import type { Deps } from '../deps';
import { nowSeconds } from '../clock';
import { hashRefreshSecret, parseRefreshToken } from '../tokens/refresh-token';
import type { AccessTokenChecker } from './access-token-check';
import type { ClientCache } from './client-cache';
import { authenticateClient, type AuthenticatedClient, type ClientAuthGuard, type SecretUses } from './client-auth';
import { OAuthError } from './errors';
import { required, type OAuthParams } from './params';
import { familyPolicy } from './refresh-policy';

export interface RevocationDeps extends Pick<Deps, 'families' | 'revocations' | 'clock' | 'config' | 'log' | 'events'> {
  readonly checker: AccessTokenChecker;
  readonly clients: ClientCache;
  readonly clientAuth?: ClientAuthGuard;
  readonly secretUses?: SecretUses;
}

export interface RevocationRequest {
  readonly params: OAuthParams;
  readonly authorization: string | undefined;
  readonly ip: string | undefined;
  readonly requestId?: string | undefined;
}

const HINTS = new Set(['access_token', 'refresh_token']);

// RFC 6749 §5.2 invalid_grant covers a token "issued to another client".
const notYours = () => new OAuthError('invalid_grant', 'the token was not issued to this client');

/**
 * RFC 7009. A refresh token ends its whole family (every token of the login, and the family's
 * access tokens at introspection); an access token goes on the blacklist until it expires.
 * Unknown, invalid and already-revoked tokens get the same 200 as a revoked one (§2.2).
 */
export async function revoke(deps: RevocationDeps, request: RevocationRequest, onAuthenticated?: (caller: AuthenticatedClient) => void): Promise<void> {
  // §2.1: confidential clients authenticate; a public client identifies itself with client_id.
  const caller = await authenticateClient(deps.clients, request.authorization, request.params, {
    now: deps.clock.now(),
    throttling: deps.clientAuth && { guard: deps.clientAuth, address: request.ip, requestId: request.requestId },
    uses: deps.secretUses,
  });
  onAuthenticated?.(caller);
  const { client } = caller;
  const token = required(request.params, 'token');
  const hint = request.params.get('token_type_hint');
  if (hint !== undefined && !HINTS.has(hint)) throw new OAuthError('unsupported_token_type', `unsupported token_type_hint: ${hint}`);

  const refresh = parseRefreshToken(token);
  if (refresh) {
    const outcome = await deps.families.revokeFamilyByToken(refresh.familyId, client.id, hashRefreshSecret(refresh.secret), familyPolicy(deps.config), deps.clock.now());
    if (outcome === 'wrong_client') throw notYours();
    if (outcome === 'revoked') deps.events.emit('token.revoked', { kind: 'refresh_token', familyId: refresh.familyId, clientId: client.id, ip: request.ip, requestId: request.requestId });
    return;
  }

  const claims = deps.checker.verifiedClaims(token);
  if (!claims) return;
  if (claims.client_id !== client.id) throw notYours();
  const now = nowSeconds(deps.clock);
  if (claims.exp <= now) return;
  await deps.revocations.blacklistAccessToken(claims.jti, claims.sub, claims.exp, now);
  deps.events.emit('token.revoked', { kind: 'access_token', jti: claims.jti, clientId: client.id, ip: request.ip, requestId: request.requestId });
}
