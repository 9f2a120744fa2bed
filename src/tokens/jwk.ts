import { createPrivateKey, createPublicKey, createSecretKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject, type JsonWebKey } from 'node:crypto';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256' | 'HS256';
export type KeyState = 'next' | 'active' | 'retired';

/** A key of the configured set, imported once. */
export interface RingKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly state: KeyState;
  /** Present when the JWK carries private material (or is a shared secret). */
  readonly signingKey: KeyObject | undefined;
  readonly verifyKey: KeyObject;
  /** The public JWK to publish; undefined for HS256, which is never published. */
  readonly publicJwk: JsonWebKey | undefined;
}

export class KeySetError extends Error {
  constructor(problems: readonly string[]) {
    super(`invalid signing key set: ${problems.join('; ')}`);
    this.name = 'KeySetError';
  }
}

/**
 * Private members of a configured JWK saying when it entered its state, written by
 * `portcullis keys rotate` (tokens/key-rotation.ts): `published_at` when it was added as next,
 * `retired_at` when it stopped signing. ISO 8601 times; never published (only PUBLIC_MEMBERS are).
 */
export const KEY_TIMES = ['published_at', 'retired_at'] as const;
export type KeyTimeMember = (typeof KEY_TIMES)[number];

// A date and time with a zone ("2026-01-05T03:00:00Z", "...+01:00"): Date.parse alone also takes
// forms whose meaning depends on the local zone.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The time in one of KEY_TIMES: undefined when absent, 'invalid' when not an ISO 8601 time with a zone. */
export function keyTime(jwk: Readonly<Record<string, unknown>>, member: KeyTimeMember): Date | undefined | 'invalid' {
  const value = jwk[member];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return 'invalid';
  return new Date(value);
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  RSA: ['kty', 'n', 'e'],
};

function inferAlg(jwk: JsonWebKey): SigningAlg | undefined {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'oct') return 'HS256';
  return undefined;
}

/** The JWK's public members (PUBLIC_MEMBERS of its kty), those it has, and nothing else. */
function publicMembers(jwk: JsonWebKey): JsonWebKey {
  const only: JsonWebKey = {};
  for (const member of PUBLIC_MEMBERS[String(jwk.kty)] ?? []) if (jwk[member] !== undefined) only[member] = jwk[member];
  return only;
}

/** Whether a signature by `signingKey` verifies with `verifyKey` (one sign and verify, at load). */
function signsForItself(signingKey: KeyObject, verifyKey: KeyObject, alg: string): boolean {
  const probe = Buffer.from('portcullis key check');
  const digest = alg === 'EdDSA' ? null : 'sha256';
  try {
    return cryptoVerify(digest, probe, verifyKey, cryptoSign(digest, probe, signingKey));
  } catch {
    return false;
  }
}

/** Imports one JWK of the set; returns problems instead of throwing, to report them all. */
export function importJwk(jwk: JsonWebKey & { kid?: unknown; alg?: unknown; state?: unknown; use?: unknown }, defaultState: KeyState | undefined, allowHs256: boolean): RingKey | string {
  const kid = typeof jwk.kid === 'string' && /^[\x21-\x7E]{1,128}$/.test(jwk.kid) ? jwk.kid : undefined;
  if (!kid) return 'every key needs a kid (1-128 printable characters)';
  const inferred = inferAlg(jwk);
  if (!inferred) return `key ${kid}: unsupported key type (use EC P-256, OKP Ed25519, RSA or, when enabled, oct)`;
  if (jwk.alg !== undefined && jwk.alg !== inferred) return `key ${kid}: alg ${String(jwk.alg)} does not match its key type (${inferred})`;
  const alg = inferred;
  if (alg === 'HS256' && !allowHs256) return `key ${kid}: HS256 keys are refused unless ALLOW_HS256=true`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return `key ${kid}: use must be "sig"`;
  const state = jwk.state ?? defaultState;
  if (state !== 'next' && state !== 'active' && state !== 'retired') return `key ${kid}: state must be next, active or retired`;
  for (const member of KEY_TIMES) {
    if (keyTime(jwk, member) === 'invalid') return `key ${kid}: ${member} must be an ISO 8601 time with a zone, like 2026-01-05T03:00:00Z`;
  }

  try {
    if (alg === 'HS256') {
      const secret = Buffer.from(String(jwk.k ?? ''), 'base64url');
      if (secret.length < 32) return `key ${kid}: an HS256 secret needs at least 256 bits`;
      const key = createSecretKey(secret);
      return { kid, alg, state, signingKey: key, verifyKey: key, publicJwk: undefined };
    }
    const hasPrivate = typeof jwk.d === 'string';
    const signingKey = hasPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : undefined;
    const verifyKey = signingKey ? createPublicKey(signingKey) : createPublicKey({ key: jwk, format: 'jwk' });
    if (alg === 'RS256' && (verifyKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return `key ${kid}: RSA keys need at least 2048 bits`;
    // The JWK's halves must belong together: with an EC key Node keeps the given x and y, so
    // such a key signed tokens its published JWK never verified; with Ed25519 the published key
    // would silently differ from the configured x.
    if (signingKey && !signsForItself(signingKey, createPublicKey({ key: publicMembers(jwk), format: 'jwk' }), alg)) return `key ${kid}: its private part does not match its public part: tokens it signs would not verify`;
    // Publish only the public members, whatever else the configured JWK carried.
    const publicJwk: JsonWebKey = { kid, alg, use: 'sig', ...publicMembers(verifyKey.export({ format: 'jwk' })) };
    return { kid, alg, state, signingKey, verifyKey, publicJwk };
  } catch (error) {
    return `key ${kid}: not a valid key (${(error as Error).message})`;
  }
}
