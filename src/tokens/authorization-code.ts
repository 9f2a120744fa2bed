import { createHash } from 'node:crypto';
import { randomBytesPooled as randomBytes } from './random';

// Authorization codes are 256 random bits, base64url (43 characters). The store keeps a code
// under SHA-256 of the code *and what it is bound to*: the client, the redirect URI and the PKCE
// challenge. Random input needs no slow hash, and a leaked store yields no code. Binding the key
// means a token request finds the code only when all of them fit (RFC 6749 §4.1.3, RFC 7636
// §4.6): someone who saw a code but lacks the verifier cannot spend it, nor, by replaying it,
// revoke what the real client got.

const CODE = /^[A-Za-z0-9_-]{43}$/;

/** What a code is bound to; the token request must present the same (the challenge via its verifier). */
export interface CodeBinding {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
}

export function newAuthorizationCode(binding: CodeBinding): { code: string; key: string } {
  const code = randomBytes(32).toString('base64url');
  return { code, key: authorizationCodeKey(code, binding) };
}

export function isAuthorizationCode(value: string): boolean {
  return CODE.test(value);
}

/** The store's key for a code: SHA-256 over the code and its binding, unambiguously joined. */
export function authorizationCodeKey(code: string, binding: CodeBinding): string {
  return createHash('sha256').update(JSON.stringify([code, binding.clientId, binding.redirectUri, binding.codeChallenge])).digest('base64url');
}

// RFC 7636 §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isCodeVerifier(value: string): boolean {
  return VERIFIER.test(value);
}

/** RFC 7636 §4.6 with S256: the challenge a verifier answers, BASE64URL(SHA-256(ASCII(code_verifier))). */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
