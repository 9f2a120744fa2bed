import { StartRefusal } from '../start-refusal';

/**
 * The database cannot be used, for a reason the operator must fix before anything can work:
 * unreachable, migrations pending, or (PGlite) its directory held by another process. `event`
 * is the log event; `details` names where (host and port, never credentials).
 */
export class DatabaseUnavailable extends StartRefusal {
  constructor(
    override readonly event: 'database.unreachable' | 'database.migrations_pending' | 'database.in_use',
    message: string,
    details: Readonly<Record<string, unknown>>,
  ) {
    super(event, message, details);
    this.name = 'DatabaseUnavailable';
  }
}
