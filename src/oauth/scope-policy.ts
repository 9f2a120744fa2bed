import { hasScope, parseScope } from '../identity/scopes';
import { OAuthError } from './errors';

/**
 * RFC 6749 §3.3: the granted scope. A requested scope is granted only when every holder in
 * `holders` (the user's effective scopes, the client's allowed scopes) grants it; anything else
 * is invalid_scope — a scope is never granted just because it was asked for. With no scope
 * requested, the client's default scopes that every holder grants.
 */
export function grantScope(requested: string | undefined, defaults: readonly string[], holders: ReadonlyArray<readonly string[]>): string[] {
  if (requested === undefined) return defaults.filter((scope) => holders.every((held) => hasScope(held, scope)));
  const scopes = parseScope(requested);
  if (!scopes) throw new OAuthError('invalid_scope', 'malformed scope');
  const refused = scopes.filter((scope) => !holders.every((held) => hasScope(held, scope)));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `scope not allowed: ${refused.join(' ')}`);
  return scopes;
}
