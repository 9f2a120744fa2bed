import type { AuthInfo } from './types';

/** A space-delimited `scope` claim (RFC 9068 §2.2.3, RFC 7662 §2.2) as a list. */
export function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

/** The caller described by verified claims or an active introspection answer; undefined when
 *  the subject or client is missing. */
export function authInfoFrom(claims: Readonly<Record<string, unknown>>): AuthInfo | undefined {
  const { sub, client_id: clientId, username, scope } = claims;
  if (typeof sub !== 'string' || typeof clientId !== 'string') return undefined;
  return { sub, username: typeof username === 'string' ? username : undefined, scopes: scopesOf(scope), clientId, claims };
}
