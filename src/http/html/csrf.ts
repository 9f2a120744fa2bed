import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled as randomBytes } from '../../tokens/random';

// The login and consent forms carry a token bound to the pending authorization request and to
// the browser: HMAC-SHA256 keyed with a random per-browser value kept in a `__Host-` cookie,
// over the form's purpose and the request. A cross-site page can neither read the cookie nor set
// it (the `__Host-` prefix forbids a sibling subdomain from planting one), so it cannot forge
// the token; a token taken from one request does not fit another. No server state, so any
// instance checks what another issued.

/** A new per-browser key, for the cookie. */
export function newFormKey(): string {
  return randomBytes(32).toString('base64url');
}

const FORM_KEY = /^[A-Za-z0-9_-]{43}$/;

export function isFormKey(value: string | undefined): value is string {
  return value !== undefined && FORM_KEY.test(value);
}

export function formToken(key: string, purpose: 'login' | 'consent' | 'logout', request: string): string {
  return createHmac('sha256', key).update(`${purpose}\n${request}`).digest('base64url');
}

/** Constant-time check of a posted token against the browser's key. */
export function formTokenMatches(key: string | undefined, purpose: 'login' | 'consent' | 'logout', request: string, posted: string | undefined): boolean {
  if (!isFormKey(key) || posted === undefined) return false;
  const expected = Buffer.from(formToken(key, purpose, request));
  const given = Buffer.from(posted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
