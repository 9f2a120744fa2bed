import { subjectType } from './subject-type.js';
import type { AuthInfo } from './types.js';

/** A space-delimited `scope` claim (RFC 9068 §2.2.3, RFC 7662 §2.2) as a list. */
export function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

/** The caller described by verified claims or an active introspection answer; undefined when
 *  the subject or client is missing. The subject type follows the server's own rule
 *  (subject-type.ts), which reads the members both forms carry: sub, client_id, username. */
export function authInfoFrom(claims: Readonly<Record<string, unknown>>): AuthInfo | undefined {
  const { sub, client_id: clientId, username: name, scope } = claims;
  if (typeof sub !== 'string' || typeof clientId !== 'string') return undefined;
  const username = typeof name === 'string' ? name : undefined;
  return { sub, subjectType: subjectType({ sub, client_id: clientId, username }), username, scopes: scopesOf(scope), clientId, claims };
}
