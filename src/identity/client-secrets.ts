import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Client secrets are generated with 256 bits of entropy, so a slow password hash buys nothing:
// nobody can guess them offline. A salted HMAC-SHA-256 keeps client authentication cheap (off
// the argon2 path) while the database still never holds a usable secret.

const SCHEME = 'hmac-sha256';
export const MIN_SECRET_LENGTH = 32;

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string, salt: Buffer = randomBytes(16)): string {
  const digest = createHmac('sha256', salt).update(secret, 'utf8').digest();
  return `${SCHEME}$${salt.toString('base64url')}$${digest.toString('base64url')}`;
}

/** Constant-time check of a presented secret against a stored hash. */
export function verifyClientSecret(secret: string, stored: string): boolean {
  const [scheme, salt, digest] = stored.split('$');
  if (scheme !== SCHEME || salt === undefined || digest === undefined) return false;
  const expected = Buffer.from(digest, 'base64url');
  const actual = createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Is this a hash this module wrote (for secrets given by hash: `secretHash`, CLIENTS_FILE)? */
export function isClientSecretHash(text: string): boolean {
  const [scheme, salt, digest, ...rest] = text.split('$');
  const base64url = /^[A-Za-z0-9_-]+$/;
  return scheme === SCHEME && rest.length === 0 && salt !== undefined && digest !== undefined && base64url.test(salt) && base64url.test(digest) && Buffer.from(digest, 'base64url').length === 32;
}
