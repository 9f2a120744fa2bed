// RFC 6750: reading `Authorization: Bearer` and writing the `WWW-Authenticate` challenge.

// RFC 6750 §2.1: `Bearer <b64token>`; the scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export type BearerResult = { readonly kind: 'missing' } | { readonly kind: 'malformed' } | { readonly kind: 'token'; readonly token: string };

export function parseBearer(authorization: string | undefined): BearerResult {
  if (authorization === undefined || authorization === '') return { kind: 'missing' };
  const match = BEARER.exec(authorization);
  return match ? { kind: 'token', token: match[1]! } : { kind: 'malformed' };
}

export interface ChallengeError {
  /** RFC 6750 §3.1's three codes. */
  readonly code: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  readonly description?: string;
  readonly scope?: string;
}

/** An RFC 6750 §3 challenge; `error` is left out when the request carried no token (§3.1). */
export function bearerChallenge(realm: string, error?: ChallengeError): string {
  const parts = [`realm="${realm}"`];
  if (error) {
    parts.push(`error="${error.code}"`);
    // A quoted-string may not hold a bare quote or backslash; the text is ours, but stay safe.
    if (error.description) parts.push(`error_description="${error.description.replace(/["\\]/g, '')}"`);
    if (error.scope) parts.push(`scope="${error.scope}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}
