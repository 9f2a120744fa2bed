import { ACCESS_TOKEN_TYP } from './access-token';
import { verifyJws } from './jws-verify';
import type { KeySet } from './keyring';

/** The claims of an access token we issued, as verified. Times are Unix seconds. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly client_id: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly nbf?: number;
  readonly scope?: string;
  readonly username?: string;
  readonly roles?: readonly string[];
  /** The refresh-token family (login) the token belongs to. */
  readonly sid?: string;
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isAudience = (value: unknown): value is string | string[] => isString(value) || (Array.isArray(value) && value.length > 0 && value.every(isString));

/** RFC 9068 §2.1: `typ` is `at+jwt`, or the full media type `application/at+jwt`. */
function isAccessTokenTyp(typ: unknown): boolean {
  return typeof typ === 'string' && (typ.toLowerCase() === ACCESS_TOKEN_TYP || typ.toLowerCase() === `application/${ACCESS_TOKEN_TYP}`);
}

/** Shape-checks the claims; undefined when a required one is missing or mistyped. */
function claimsOf(payload: Readonly<Record<string, unknown>>): AccessTokenClaims | undefined {
  const { iss, sub, aud, client_id: clientId, iat, exp, jti, nbf, scope, username, roles, sid } = payload;
  if (!isString(iss) || !isString(sub) || !isAudience(aud) || !isString(clientId) || !isTime(iat) || !isTime(exp) || !isString(jti)) return undefined;
  if (nbf !== undefined && !isTime(nbf)) return undefined;
  if (scope !== undefined && typeof scope !== 'string') return undefined;
  if (username !== undefined && typeof username !== 'string') return undefined;
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) return undefined;
  if (sid !== undefined && !isString(sid)) return undefined;
  return payload as unknown as AccessTokenClaims;
}

/**
 * Signature, `typ` and claim shapes: what can be cached for the token's lifetime, because it
 * never changes for one token and one key set. Time and revocation are checked per use.
 */
export function verifyAccessTokenSignature(token: string, keys: KeySet, issuer: string): AccessTokenClaims | undefined {
  const verified = verifyJws(token, keys);
  if (!verified || !isAccessTokenTyp(verified.header.typ)) return undefined;
  const claims = claimsOf(verified.payload);
  return claims && claims.iss === issuer ? claims : undefined;
}

/** Tolerated clock difference between instances for `iat` and `nbf` (RFC 7519 §4.1.5). */
export const CLOCK_SKEW_SEC = 30;

/** RFC 7519 §4.1.4/§4.1.5: expired at `exp`, not valid before `nbf`, not issued in the future. */
export function isCurrent(claims: AccessTokenClaims, nowSec: number): boolean {
  return nowSec < claims.exp && claims.iat <= nowSec + CLOCK_SKEW_SEC && (claims.nbf === undefined || claims.nbf <= nowSec + CLOCK_SKEW_SEC);
}
