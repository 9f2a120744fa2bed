/**
 * Revocation state that must be shared by every instance and checked on hot paths: revoked
 * access tokens and per-user and per-client revocation epochs (and, read with them, whether the
 * token's refresh-token family is revoked). Redis in production; an in-process map for
 * development. Both pass test/store/contract.test.ts.
 *
 * Times are Unix seconds taken from the caller's clock (the epochs themselves are Unix ms), so
 * expiry is decided the same way on both backends (Redis TTLs only garbage-collect entries that
 * are already logically dead).
 */

export interface RevocationState {
  /** The token's jti is on the blacklist and has not yet expired. */
  readonly blacklisted: boolean;
  /** Tokens of this user issued at or before this time (Unix ms) are revoked; 0 when none. */
  readonly userRevokedBefore: number;
  /** The token's refresh-token family has been revoked (false when it has none). */
  readonly familyRevoked: boolean;
  /** Tokens issued to the client at or before this time (Unix ms) are revoked (a deleted client); 0 when none. */
  readonly clientRevokedBefore: number;
  /**
   * Tokens issued before this time (Unix ms) were issued before the store lost its data (a Redis
   * restarted empty, a failover to an empty replica): their revocations may be gone, so they
   * count as revoked. 0 when no loss is known (always, in the in-process store).
   */
  readonly lostBefore: number;
}

export interface RevocationStore {
  /** RFC 7009: an access token (its jti, and its `sub`, which places it) stays revoked until its own expiry, then the entry goes too. */
  blacklistAccessToken(jti: string, subject: string, expiresAt: number, now: number): Promise<void>;

  /** Every token of the user issued at or before `epochMs` (Unix ms) is revoked; kept for `ttlSec`. */
  revokeUserTokensBefore(userId: string, epochMs: number, ttlSec: number, now: number): Promise<void>;

  /** Every token issued to the client at or before `epochMs` (Unix ms) is revoked; kept for `ttlSec`. */
  revokeClientTokensBefore(clientId: string, epochMs: number, ttlSec: number, now: number): Promise<void>;

  /** Hot path: everything introspection needs to know, in one round trip. */
  revocationState(jti: string, userId: string, now: number, familyId?: string, clientId?: string): Promise<RevocationState>;
}
