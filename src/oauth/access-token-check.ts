import { nowSeconds } from '../clock';
import type { Deps } from '../deps';
import { issuedAtMs } from '../tokens/jti';
import { VerifiedTokenCache } from '../tokens/verified-cache';
import { isCurrent, type AccessTokenClaims } from '../tokens/verify-access-token';

export type AccessTokenCheck =
  | { readonly active: true; readonly claims: AccessTokenClaims }
  | { readonly active: false; readonly reason: 'invalid' | 'expired' | 'revoked' };

export type CheckDeps = Pick<Deps, 'keyring' | 'revocations' | 'clock' | 'config'>;

/**
 * HOT PATH (introspection, forward-auth, the self-service API). Budget: one signature check
 * (skipped on a cache hit), no database, one Redis round trip — the jti blacklist, the user's
 * revocation epoch and the token's family state, read together.
 */
export class AccessTokenChecker {
  private readonly verified: VerifiedTokenCache;

  constructor(private readonly deps: CheckDeps) {
    this.verified = new VerifiedTokenCache(deps.keyring, deps.config.issuer);
  }

  async check(token: string): Promise<AccessTokenCheck> {
    const now = nowSeconds(this.deps.clock);
    const claims = this.verified.verify(token, now);
    if (!claims) return { active: false, reason: 'invalid' };
    if (!isCurrent(claims, now)) return { active: false, reason: 'expired' };
    const state = await this.deps.revocations.revocationState(claims.jti, claims.sub, now, claims.sid, claims.client_id);
    // The epochs revoke tokens issued at or before them (a password change, a disabled user,
    // log out everywhere; a deleted client). A token from before the store lost its data may
    // have had a revocation that is gone with it: fail closed.
    const issuedAt = issuedAtMs(claims.jti, claims.iat);
    if (state.blacklisted || state.familyRevoked || issuedAt <= state.userRevokedBefore || issuedAt <= state.clientRevokedBefore || issuedAt < state.lostBefore) return { active: false, reason: 'revoked' };
    return { active: true, claims };
  }

  /** Signature and shape only (cached), for revocation, where an expired token is a no-op. */
  verifiedClaims(token: string): AccessTokenClaims | undefined {
    return this.verified.verify(token, nowSeconds(this.deps.clock));
  }
}
