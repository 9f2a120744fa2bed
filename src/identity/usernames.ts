import { IdentityError } from './errors';

// Letters and digits of any script, plus . _ @ + - (so e-mail addresses work as usernames).
const USERNAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

/** The username as stored for display: NFKC (so look-alike compatibility forms fold together). */
export function normaliseUsername(username: string): string {
  const normalised = username.normalize('NFKC').trim();
  if (!USERNAME.test(normalised)) {
    throw new IdentityError('invalid_username', 'username must be 1-64 letters, digits or . _ @ + -');
  }
  return normalised;
}

/** The uniqueness key: NFKC, then case-folded, so "Alice" and "ALICE" are one user. */
export function usernameKey(username: string): string {
  return normaliseUsername(username).toLowerCase().normalize('NFKC');
}

/** Like usernameKey, but undefined for text that cannot be a username (login attempts). */
export function tryUsernameKey(username: string): string | undefined {
  try {
    return usernameKey(username);
  } catch {
    return undefined;
  }
}
