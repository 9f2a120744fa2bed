/** An error from a non-OAuth endpoint (health, account, admin): a status, a stable machine
 *  code, a human message and optional field-level details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
