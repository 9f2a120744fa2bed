import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { userTag } from '../store/user-tag';
import { randomBytesPooled as randomBytes } from './random';

// Refresh tokens are opaque: `<familyId>.<secret>`, base64url. A family id is 128 random bits and
// its user's tag (store/user-tag.ts: the slot of the user's state on Redis Cluster); ids minted
// before tags existed have no tag and keep working until they expire. The secret is 256 bits. The
// store keeps only SHA-256(secret): the secret is random, so a fast hash suffices and a leaked
// store yields no usable token.

const FAMILY_ID = /^[A-Za-z0-9_-]{22}(?:[A-Za-z0-9_-]{2})?$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface RefreshToken {
  readonly familyId: string;
  readonly secret: string;
  readonly token: string;
}

/**
 * A family id is also the session id operators pass to `portcullis session revoke`; one that
 * began with '-' would read as an option there, so such draws are drawn again (1 in 64 of
 * them; the id keeps over 127 bits of randomness).
 */
export function newFamilyId(userId: string): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id[0] !== '-') return id + userTag(userId);
  }
}


export function newRefreshToken(familyId: string): RefreshToken {
  const secret = randomBytes(32).toString('base64url');
  return { familyId, secret, token: `${familyId}.${secret}` };
}

export function parseRefreshToken(token: string): RefreshToken | undefined {
  const dot = token.indexOf('.');
  const familyId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  return dot > 0 && FAMILY_ID.test(familyId) && SECRET.test(secret) ? { familyId, secret, token } : undefined;
}

export function hashRefreshSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

// The idle-retry window must hand out the *same* successor again, yet the store must never hold
// a usable refresh token. So the successor is kept sealed (AES-256-GCM) under a key only the
// holder of the presented token can derive: one HMAC-SHA-256 keyed with the presented secret (32
// random bytes; HMAC is a PRF, so one call is a sound key derivation from a uniformly random key,
// where HKDF's extract-and-expand made three). Boxes sealed by the previous release (HKDF, no
// version prefix) still open, for a rolling upgrade.
const SUCCESSOR_BOX_V2 = 's2';

function successorKey(presented: RefreshToken): Buffer {
  return createHmac('sha256', presented.secret).update(`portcullis refresh successor v2\u0000${presented.familyId}`).digest();
}

function legacySuccessorKey(presented: RefreshToken): Buffer {
  return Buffer.from(hkdfSync('sha256', presented.secret, presented.familyId, 'portcullis refresh successor v1', 32));
}

export function sealSuccessor(presented: RefreshToken, successor: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(presented), iv);
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return [SUCCESSOR_BOX_V2, ...[iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url'))].join('.');
}

export function openSuccessor(presented: RefreshToken, box: string): string | undefined {
  const parts = box.split('.');
  const v2 = parts.length === 4 && parts[0] === SUCCESSOR_BOX_V2;
  const [iv, tag, sealed] = (v2 ? parts.slice(1) : parts).map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !sealed) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', v2 ? successorKey(presented) : legacySuccessorKey(presented), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
