/**
 * Something the operator must fix before the service can start or a command can run (a database
 * it cannot use, an audit file it cannot open). The service logs it as one fatal line (`event`,
 * `details`, the message) and marks it `logged`, so the CLI's entry only exits.
 */
export class StartRefusal extends Error {
  /** Set once the service has logged it. */
  logged = false;

  constructor(
    readonly event: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'StartRefusal';
  }
}
