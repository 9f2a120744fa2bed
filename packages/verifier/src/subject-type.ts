/** Who a token acts for: a signed-in user, or a client on its own behalf (client_credentials). */
export type SubjectType = 'user' | 'client';

/** The members of a token (its claims, or an introspection answer) that tell whom it acts for. */
export interface SubjectClaims {
  readonly sub: string;
  readonly client_id: string;
  readonly username?: string | undefined;
}

/**
 * The server's rule, shared with the verifiers (the server imports it from here). Only the user
 * grants (password, refresh, authorization code) write `username`, and a user's id (a UUID) can
 * never equal a client id (client ids that look like UUIDs are refused), so a token is a user's
 * when it names a username and its subject is not its client. Anything else acts for the client.
 */
export function subjectType(claims: SubjectClaims): SubjectType {
  return claims.username !== undefined && claims.sub !== claims.client_id ? 'user' : 'client';
}
