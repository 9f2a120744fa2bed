export type IdentityErrorCode =
  | 'invalid_username'
  | 'duplicate_username'
  | 'unknown_user'
  | 'unknown_role'
  | 'weak_password'
  | 'wrong_password'
  | 'forbidden_grant'
  | 'forbidden_target'
  | 'invalid_scope'
  | 'invalid_client'
  | 'duplicate_client'
  | 'unknown_client'
  /** The client has no secret of that id. */
  | 'unknown_secret'
  /** A confidential client holds at most two active secrets. */
  | 'too_many_secrets'
  /** A confidential client keeps at least one secret that works. */
  | 'last_secret'
  /** A clients file manages the client: change it there (identity/managed-clients.ts). */
  | 'managed_client';

/** A rule of the identity model was broken; the CLI prints it, HTTP APIs map it to 400/404/409. */
export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}
