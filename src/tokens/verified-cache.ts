import { LRUCache } from 'lru-cache';
import { MAX_JWS_LENGTH } from './jws-verify';
import type { Keyring } from './keyring';
import { verifyAccessTokenSignature, type AccessTokenClaims } from './verify-access-token';

/**
 * The token as a string of its own. A token cut from a longer string (a Bearer header, padded
 * with spaces up to the header limit) may share that string's memory, and a cache key would keep
 * all of it alive: ~16 KB an entry instead of ~1 KB. A verified token is base64url (ASCII).
 */
function ownCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

/**
 * Access tokens whose signature, `typ`, issuer and claim shapes were verified, keyed by the
 * token itself (a SHA-256 of it was ~3 % of introspection's CPU; 10,000 of this issuer's tokens
 * are ~10 MB). Resource services introspect one token many times; a hit skips the signature
 * check. Entries never outlive the token's `exp` and all go when the key set changes (a removed
 * key must stop verifying at once). Only what never changes for a token is cached: expiry and
 * revocation are checked on every use by the caller.
 */
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, AccessTokenClaims>;

  constructor(
    private readonly keyring: Keyring,
    private readonly issuer: string,
    max = 10_000,
  ) {
    this.cache = new LRUCache<string, AccessTokenClaims>({ max, ttlAutopurge: false });
    keyring.onChange(() => this.cache.clear());
  }

  verify(token: string, nowSec: number): AccessTokenClaims | undefined {
    if (token.length > MAX_JWS_LENGTH) return undefined;
    const cached = this.cache.get(token);
    if (cached) return cached;
    const claims = verifyAccessTokenSignature(token, this.keyring.current, this.issuer);
    if (claims && claims.exp > nowSec) this.cache.set(ownCopy(token), claims, { ttl: (claims.exp - nowSec) * 1000 });
    return claims;
  }

  get size(): number {
    return this.cache.size;
  }
}
