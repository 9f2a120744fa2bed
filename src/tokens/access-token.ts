import { nowSeconds, type Clock } from '../clock';
import type { Keyring } from './keyring';
import { newJti } from './jti';
import { signJws } from './jws';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenRequest {
  /** User id, or the client id for client_credentials. */
  readonly sub: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly username?: string;
  readonly roles?: readonly string[];
  /** The refresh-token family this token belongs to (lets introspection revoke it with the family). */
  readonly familyId?: string;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly expiresIn: number;
}

export interface AccessTokenDeps {
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: { readonly issuer: string; readonly accessTokenTtlSec: number };
}

/** An RFC 9068 JWT access token signed with the active key. */
export function issueAccessToken(deps: AccessTokenDeps, request: AccessTokenRequest): IssuedAccessToken {
  const iat = nowSeconds(deps.clock);
  const exp = iat + deps.config.accessTokenTtlSec;
  const jti = newJti(deps.clock.now());
  const claims: Record<string, unknown> = {
    iss: deps.config.issuer,
    sub: request.sub,
    aud: request.audience,
    client_id: request.clientId,
    iat,
    exp,
    jti,
  };
  // RFC 9068 §2.2.3: scope is space-delimited; a token granted no scope carries none.
  if (request.scope.length > 0) claims.scope = request.scope.join(' ');
  if (request.username !== undefined) claims.username = request.username;
  if (request.roles !== undefined) claims.roles = [...request.roles];
  if (request.familyId !== undefined) claims.sid = request.familyId;
  const token = signJws(deps.keyring.current.active, { typ: ACCESS_TOKEN_TYP }, claims);
  return { token, jti, iat, exp, expiresIn: exp - iat };
}
