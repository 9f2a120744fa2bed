import type { AccessTokenClaims } from './verify-access-token';

/** Who a token acts for: a signed-in user, or a client on its own behalf (client_credentials). */
export type SubjectType = 'user' | 'client';

/**
 * Only the user grants (password, refresh) write `username`, and a user's id (a UUID) can never
 * equal a client id (client ids that look like UUIDs are refused), so a token is a user's when it
 * names a username and its subject is not its client. Anything else acts for the client.
 */
export function subjectType(claims: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'username'>): SubjectType {
  return claims.username !== undefined && claims.sub !== claims.client_id ? 'user' : 'client';
}
