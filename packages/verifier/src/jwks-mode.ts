import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { authInfoFrom } from './auth-info.js';
import { IntrospectVerifier } from './introspect-mode.js';
import { pushedRevocations, type PushedRevocations } from './pushed-revocations.js';
import type { AuthInfo, JwksModeOptions, TokenVerifier } from './types.js';

// Local verification against the authorization server's published keys (jose): an unknown
// `kid` refetches the JWKS, at most once per cool-down, so a key rotation is followed without
// a restart and a flood of made-up kids cannot turn into a flood of fetches.
//
// The hot path: one signature check, no network (bar a JWKS refetch). Its steps are kept apart
// (signed claims, then the caller they describe) so that a later step between them, such as a
// local deny-set of pushed revocations, is one more line in `verify` and not a rewrite.

// Asymmetric only: HS256 keys are never published, and `none` is never an algorithm.
const ALGORITHMS = ['ES256', 'EdDSA', 'RS256'];

export class JwksVerifier implements TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  /** With `revocations: 'push'`: the local deny-set and what to do when it is stale. */
  private readonly pushed: PushedRevocations | undefined;

  constructor(private readonly options: JwksModeOptions) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`), {
      cooldownDuration: options.cooldownMs ?? 30_000,
      cacheMaxAge: options.jwksMaxAgeMs ?? 5 * 60_000,
    });
    this.pushed = pushedRevocations(options, (opts) => new IntrospectVerifier(opts));
  }

  async verify(token: string): Promise<AuthInfo | undefined> {
    const claims = await this.signedClaims(token);
    const auth = claims && authInfoFrom(claims);
    if (!claims || !auth) return undefined;
    return this.pushed ? this.pushed.check(token, claims, auth) : auth;
  }

  close(): void {
    this.pushed?.close();
  }

  /** The claims of a token signed by the issuer's key, for us, and current; undefined otherwise. */
  private async signedClaims(token: string): Promise<JWTPayload | undefined> {
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
      return payload;
    } catch (error) {
      // A JWKS that cannot be fetched (jose rethrows fetch's TypeError, or a generic JOSEError for
      // a bad response) is our failure, not the caller's: it surfaces as 503, never as 401.
      if (error instanceof TypeError || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) throw error;
      if (error instanceof errors.JOSEError && error.code !== 'ERR_JOSE_GENERIC') return undefined;
      throw error;
    }
  }
}
