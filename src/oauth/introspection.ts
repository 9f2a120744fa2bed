import type { Deps } from '../deps';
import { hashRefreshSecret, parseRefreshToken, type RefreshToken } from '../tokens/refresh-token';
import type { AccessTokenChecker } from './access-token-check';
import type { ClientCache } from './client-cache';
import { authenticateClient, type AuthenticatedClient, type ClientAuthGuard, type SecretUses } from './client-auth';
import { OAuthError } from './errors';
import { required, type OAuthParams } from './params';

// HOT PATH. RFC 7662 introspection. Budget per request: client authentication from a
// short-lived in-process cache (no database), one signature check (cached per token), one
// Redis round trip (revocation state, or the refresh-token family). One synchronous event.

export interface IntrospectionDeps extends Pick<Deps, 'families' | 'clock' | 'config' | 'events'> {
  readonly checker: AccessTokenChecker;
  readonly clients: ClientCache;
  readonly clientAuth?: ClientAuthGuard;
  readonly secretUses?: SecretUses;
}

export interface IntrospectionRequest {
  readonly params: OAuthParams;
  readonly authorization: string | undefined;
  readonly ip?: string | undefined;
  readonly requestId?: string | undefined;
}

/** RFC 7662 §2.2. Everything but `active` is present only for an active token. */
export interface IntrospectionResponse {
  readonly active: boolean;
  readonly scope?: string;
  readonly client_id?: string;
  readonly username?: string;
  readonly token_type?: 'Bearer' | 'refresh_token';
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly iss?: string;
  readonly jti?: string;
}

const INACTIVE: IntrospectionResponse = { active: false };

/** RFC 7662 §2.1: the caller must be a confidential client allowed to introspect (also the
 *  rule for the revocation feed, which tells the same caller the same facts in advance). */
export async function authenticateCaller(deps: IntrospectionDeps, request: IntrospectionRequest): Promise<AuthenticatedClient> {
  const caller = await authenticateClient(deps.clients, request.authorization, request.params, {
    now: deps.clock.now(),
    throttling: deps.clientAuth && { guard: deps.clientAuth, address: request.ip, requestId: request.requestId },
    uses: deps.secretUses,
  });
  if (caller.method === 'none') throw new OAuthError('invalid_client', 'introspection requires client authentication', { wwwAuthenticate: 'Basic realm="portcullis"' });
  if (!caller.client.canIntrospect) throw new OAuthError('unauthorized_client', 'this client may not introspect tokens', { status: 403 });
  return caller;
}

/** A refresh token is active for its own client only: no other party has a use for it. */
async function introspectRefreshToken(deps: IntrospectionDeps, parsed: RefreshToken, callerId: string): Promise<IntrospectionResponse> {
  const family = await deps.families.currentFamily(parsed.familyId, hashRefreshSecret(parsed.secret), deps.clock.now());
  if (!family || family.clientId !== callerId) return INACTIVE;
  return {
    active: true,
    ...(family.scope.length > 0 ? { scope: family.scope.join(' ') } : {}),
    client_id: family.clientId,
    ...(family.username !== undefined ? { username: family.username } : {}),
    token_type: 'refresh_token',
    exp: Math.floor(Math.min(family.idleExpiresAt, family.absoluteExpiresAt) / 1000),
    iat: Math.floor(family.lastUsedAt / 1000),
    sub: family.userId,
    aud: family.audience,
    iss: deps.config.issuer,
  };
}

async function introspectAccessToken(deps: IntrospectionDeps, token: string): Promise<IntrospectionResponse> {
  const check = await deps.checker.check(token);
  if (!check.active) return INACTIVE;
  const { claims } = check;
  return {
    active: true,
    ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
    client_id: claims.client_id,
    ...(claims.username !== undefined ? { username: claims.username } : {}),
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti,
  };
}

/** The answer, and who asked: the route logs the caller's client and secret id with the request. */
export interface IntrospectionResult {
  readonly response: IntrospectionResponse;
  readonly caller: AuthenticatedClient;
}

export async function introspect(deps: IntrospectionDeps, request: IntrospectionRequest): Promise<IntrospectionResult> {
  const caller = await authenticateCaller(deps, request);
  const token = required(request.params, 'token');
  // RFC 7662 §2.1: token_type_hint is only a hint. The two formats cannot be confused (a JWT has
  // two dots, a refresh token one), so the token's shape decides, whatever the hint says.
  const refresh = parseRefreshToken(token);
  const response = refresh ? await introspectRefreshToken(deps, refresh, caller.client.id) : await introspectAccessToken(deps, token);
  // Issue 15: every introspection records which of the caller's secrets authenticated it.
  deps.events.emit('introspection.answered', {
    active: response.active,
    clientId: caller.client.id,
    secretId: caller.secretId,
    tokenType: refresh ? 'refresh_token' : 'access_token',
    ip: request.ip,
    requestId: request.requestId,
  });
  return { response, caller };
}
