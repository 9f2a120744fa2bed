import { systemClock } from '../clock';
import { loadConfig, type Config } from '../config/config';
import { createDatabase, databaseTarget, type Database, type DatabaseTarget } from '../db/database';
import { checkReachable, DatabaseUnavailable, openDatabase } from '../db/startup';
import type { Deps } from '../deps';
import { AuditFileUnavailable } from '../events/audit-file';
import { createEvents } from '../events/create-events';
import { IdentityError } from '../identity/errors';
import { Passwords } from '../identity/passwords';
import { createLogger, type Logger } from '../logging/logger';
import { createTokenStores } from '../store/create-store';
import { memoryTokenStores } from '../store/memory/memory-store';
import { StoreUnavailableError } from '../store/unavailable';

/** Thrown for bad command input: printed as one line (under --json, `{"error": code,
 *  "error_description": message}`), exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string = 'invalid_request',
  ) {
    super(message);
  }
}

const UNAVAILABLE_CODES: Record<DatabaseUnavailable['event'], string> = {
  'database.unreachable': 'database_unreachable',
  'database.migrations_pending': 'migrations_pending',
  'database.in_use': 'data_dir_in_use',
};

/** A database the command cannot use, as the one line the CLI prints. */
export function cliErrorOf(error: unknown): unknown {
  if (error instanceof DatabaseUnavailable) return new CliError(error.message, UNAVAILABLE_CODES[error.event]);
  if (error instanceof IdentityError) return new CliError(error.message, error.code);
  if (error instanceof AuditFileUnavailable) return new CliError(error.message, 'audit_file_unavailable');
  // The backend's words (host and port, never a key): the operator can act on them.
  if (error instanceof StoreUnavailableError) return new CliError(`the token store (Redis) is unavailable: ${error.reason}`, 'store_unavailable');
  return error;
}

/** Opens the configured database for a command: locked (PGlite), reachable, and migrated as
 *  MIGRATE_ON_START says (or `migrate: false`), else a CliError saying why. Closed after `run`. */
export async function withDatabase<T>(config: Config, run: (db: Database, target: DatabaseTarget) => Promise<T>, { log, migrate = config.migrateOnStart }: { log?: Logger; migrate?: boolean | 'no-check' } = {}): Promise<T> {
  const target = databaseTarget(config);
  let db: Database;
  try {
    db = createDatabase(target, log);
  } catch (error) {
    throw cliErrorOf(error);
  }
  try {
    if (migrate === 'no-check') await checkReachable(db, target);
    else await openDatabase(db, target, { migrate, log });
    return await run(db, target);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    await db.destroy();
  }
}

/** Refuses a command that deletes data unless the operator said --yes (README: the ops CLI). */
export function requireYes(options: { yes?: boolean }, what: string): void {
  if (!options.yes) throw new CliError(`${what}: add --yes to confirm`, 'confirmation_required');
}

/** Runs a command with the service's own dependencies (logs go to stderr). Only commands that
 *  revoke tokens (`revokes`) or read sessions (`readsStore`) open the token store; the others
 *  never touch it. */
export type CliDeps = Omit<Deps, 'keyring' | 'throttle'>;

export async function withDeps<T>(run: (deps: CliDeps) => Promise<T>, { revokes = false, readsStore = false } = {}): Promise<T> {
  const config = loadConfig(process.env);
  if (readsStore && !config.redis) {
    throw new CliError('sessions live in the token store: set REDIS_URL (or REDIS_MODE=sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME, or REDIS_MODE=cluster with REDIS_CLUSTER_NODES; the embedded store is inside the running service)');
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
  return withDatabase(
    config,
    async (db, target) => {
      if (revokes && !config.redis) {
        log.warn(
          { event: 'cli.no_shared_store' },
          'Redis is not configured (REDIS_URL, or REDIS_MODE=sentinel or cluster): the change is saved, but tokens a running service already issued stay valid until they expire',
        );
      }
      const stores = (revokes || readsStore) && config.redis ? await createTokenStores(config, log) : memoryTokenStores();
      // The CLI's changes are audited as the admin API's are (admin.action, via: 'cli'), on
      // stderr at the configured level even though the CLI's own chatter starts at warn: without
      // AUDIT_LOG_FILE, that line is the only record a change was made.
      const events = createEvents(log, { auditLogFile: config.auditLogFile, auditLog: createLogger(config.logLevel, process.stderr) });
      try {
        return await run({ config, db, dbKind: target.kind, ...stores, passwords: new Passwords(config.argon2), log, events, clock: systemClock });
      } finally {
        events.close();
        await stores.storage.close();
      }
    },
    { log },
  );
}

/** Prints a result: JSON for scripts with --json, otherwise the given lines. */
export function emit(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${lines().join('\n')}\n`);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function list(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item !== '');
}

/** --password P or --password-stdin (one trailing newline is dropped), exactly one of them. */
export async function readPassword(options: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if ((options.password === undefined) === !options.passwordStdin) {
    throw new CliError('give exactly one of --password or --password-stdin');
  }
  if (options.password !== undefined) return options.password;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
