import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { authInfoFrom } from './auth-info';
import type { AuthInfo, JwksModeOptions, TokenVerifier } from './types';

// Local verification against the authorization server's published keys (jose): an unknown
// `kid` refetches the JWKS, at most once per cool-down, so a key rotation is followed without
// a restart and a flood of made-up kids cannot turn into a flood of fetches.

// Asymmetric only: HS256 keys are never published, and `none` is never an algorithm.
const ALGORITHMS = ['ES256', 'EdDSA', 'RS256'];

export class JwksVerifier implements TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: JwksModeOptions) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`), {
      cooldownDuration: options.cooldownMs ?? 30_000,
      cacheMaxAge: options.jwksMaxAgeMs ?? 5 * 60_000,
    });
  }

  async verify(token: string): Promise<AuthInfo | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        // RFC 7519 §4.1.3: `aud` (a string or an array) must contain ours, or the token is refused.
        audience: this.options.audience,
        // RFC 9068 §4: resource servers must check typ, so an ID token cannot pass as access.
        typ: 'at+jwt',
        algorithms: ALGORITHMS,
        clockTolerance: this.options.clockToleranceSec ?? 5,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
      });
      return authInfoFrom(payload);
    } catch (error) {
      // A JWKS that cannot be fetched (jose rethrows fetch's TypeError, or a generic JOSEError for
      // a bad response) is our failure, not the caller's: it surfaces as 503, never as 401.
      if (error instanceof TypeError || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) throw error;
      if (error instanceof errors.JOSEError && error.code !== 'ERR_JOSE_GENERIC') return undefined;
      throw error;
    }
  }
}
