import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled as randomBytes } from './random';

// Authorization codes are 256 random bits, base64url (43 characters). The store keeps only
// SHA-256 of the code: random input needs no slow hash, and a leaked store yields no code.

const CODE = /^[A-Za-z0-9_-]{43}$/;

export function newAuthorizationCode(): { code: string; hash: string } {
  const code = randomBytes(32).toString('base64url');
  return { code, hash: hashAuthorizationCode(code) };
}

export function isAuthorizationCode(value: string): boolean {
  return CODE.test(value);
}

export function hashAuthorizationCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

// RFC 7636 §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isCodeVerifier(value: string): boolean {
  return VERIFIER.test(value);
}

/** RFC 7636 §4.6 with S256: BASE64URL(SHA-256(ASCII(code_verifier))) == code_challenge, in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
