import { createHash } from 'node:crypto';
import { userTag } from '../store/user-tag';
import { randomBytesPooled as randomBytes } from './random';

// The browser-session cookie is 256 random bits (43 base64url characters) and its user's tag
// (store/user-tag.ts, 2 characters). The store knows the session only by the id derived here:
// SHA-256 of the cookie and the same tag, so a leaked store yields no usable cookie (the cookie
// is random, so a fast hash suffices), and the id alone names the user's slot on Redis Cluster.

const COOKIE = /^[A-Za-z0-9_-]{45}$/;

export function newBrowserSessionCookie(userId: string): { cookie: string; id: string } {
  const cookie = randomBytes(32).toString('base64url') + userTag(userId);
  return { cookie, id: sessionId(cookie) };
}

/** The session id a cookie value stands for; undefined for anything but a cookie's exact shape. */
export function browserSessionIdOf(cookie: string): string | undefined {
  return COOKIE.test(cookie) ? sessionId(cookie) : undefined;
}

function sessionId(cookie: string): string {
  return createHash('sha256').update(cookie).digest('base64url') + cookie.slice(-2);
}
