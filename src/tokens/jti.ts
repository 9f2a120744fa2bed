import { v7 } from 'uuid';
import { randomBytesPooled } from './random';

// Access-token ids are UUIDv7 (RFC 9562 §5.7): unique like any UUID, and their first 48 bits are
// the issue time in milliseconds. That gives a user's revocation epoch millisecond precision
// without a non-standard claim: `iat` has whole seconds only, so with `iat` alone a token issued
// just after a password change, in the same second, would be revoked too.

const V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

// uuid would ask the OS for 16 random bytes on every call: the pool spares that system call.
export function newJti(nowMs: number): string {
  return v7({ msecs: nowMs, random: randomBytesPooled(16) });
}

/** When the token was issued, in ms: from a v7 `jti`, else the last millisecond of `iat`. */
export function issuedAtMs(jti: string, iatSec: number): number {
  const match = V7.exec(jti);
  return match ? parseInt(`${match[1]}${match[2]}`, 16) : iatSec * 1000 + 999;
}
