import { createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { RingKey } from './jwk';
import type { KeySet } from './keyring';

// JWS compact verification (RFC 7515) with node:crypto, synchronously, for the same reason
// signing is (see jws.ts): verification is the hottest path and must not queue on libuv's
// threadpool behind argon2. The algorithm comes from *our* key, found by `kid`; the token's
// `alg` must merely agree with it. So `alg: none`, and HS256 "signed" with a published public
// key (algorithm confusion, RFC 8725 §2.1), can never select a verification method.

/** Larger than any token we issue by far; anything bigger is refused before parsing. */
export const MAX_JWS_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface VerifiedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly key: RingKey;
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  // RFC 7515 §5.2: the decoded segments must be UTF-8 JSON; TextDecoder with fatal refuses
  // malformed UTF-8 instead of replacing it.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function signatureValid(key: RingKey, data: Buffer, signature: Buffer): boolean {
  switch (key.alg) {
    case 'ES256':
      return signature.length === 64 && verify('sha256', data, { key: key.verifyKey, dsaEncoding: 'ieee-p1363' }, signature);
    case 'EdDSA':
      return verify(null, data, key.verifyKey, signature);
    case 'RS256':
      return verify('sha256', data, key.verifyKey, signature);
    case 'HS256': {
      const expected = createHmac('sha256', key.verifyKey).update(data).digest();
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    }
  }
}

/** The verified header and payload, or undefined for anything that is not a valid JWS of ours. */
export function verifyJws(token: string, keys: KeySet): VerifiedJws | undefined {
  if (token.length > MAX_JWS_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJsonObject(headerPart);
  if (!header || typeof header.kid !== 'string' || typeof header.alg !== 'string') return undefined;
  // RFC 7515 §4.1.11: we understand no critical extension, so any `crit` is refused.
  if ('crit' in header) return undefined;
  const key = keys.byKid.get(header.kid);
  if (!key || key.alg !== header.alg) return undefined;
  let valid: boolean;
  try {
    valid = signatureValid(key, Buffer.from(`${headerPart}.${payloadPart}`), Buffer.from(signaturePart, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) return undefined;
  const payload = decodeJsonObject(payloadPart);
  return payload ? { header, payload, key } : undefined;
}
