/**
 * The database cannot be used, for a reason the operator must fix before anything can work:
 * unreachable, migrations pending, or (PGlite) its directory held by another process. `event`
 * is the log event; `details` names where (host and port, never credentials).
 */
export class DatabaseUnavailable extends Error {
  /** Set once the service has logged it: the CLI's entry then only exits. */
  logged = false;

  constructor(
    readonly event: 'database.unreachable' | 'database.migrations_pending' | 'database.in_use',
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'DatabaseUnavailable';
  }
}
