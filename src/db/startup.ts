import { DEFAULT_CONNECT_TIMEOUT_MS, type Database, type DatabaseTarget } from './database';
import { migrateLatest, migrationStatus } from './migrate';
import { DatabaseUnavailable } from './startup-errors';

export { DatabaseUnavailable } from './startup-errors';

/** Where the database is, for a log line or an error: host, port and name, never the user or password. */
export function describeDatabase(target: DatabaseTarget): { kind: string; host?: string; port?: number; database?: string; dir?: string } {
  if (target.kind === 'pglite') return { kind: 'pglite', dir: target.dir };
  try {
    const url = new URL(target.url);
    return { kind: 'postgres', host: decodeURIComponent(url.hostname) || 'localhost', port: Number(url.port || 5432), database: decodeURIComponent(url.pathname.slice(1)) || undefined };
  } catch {
    return { kind: 'postgres' };
  }
}

/**
 * The driver's message without credentials: the URL's password wherever it appears, should a
 * driver ever repeat it, and any user name where PostgreSQL names one (`password authentication
 * failed for user "x"`, `role "x" does not exist`), the URL's or the one pg fell back to
 * (PGUSER, the OS user). README: host, port and database, never the user or password.
 */
function scrub(message: string, target: DatabaseTarget): string {
  if (target.kind !== 'postgres') return message;
  let password = '';
  try {
    password = decodeURIComponent(new URL(target.url).password);
  } catch {
    return message;
  }
  const scrubbed = password === '' ? message : message.split(password).join('***');
  return scrubbed.replace(/\b(user|role) "[^"]*"/g, '$1 "***"');
}

/**
 * One query, to learn at start that the database answers: an unreachable one is refused with
 * where it was looked for, instead of a service that starts and fails every request. Bounded by
 * the connect timeout (and this timer, should the driver not keep it).
 */
export async function checkReachable(db: Database, target: DatabaseTarget): Promise<void> {
  if (target.kind !== 'postgres') return; // PGlite runs in this process: nothing to reach
  const where = describeDatabase(target);
  const timeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s (DATABASE_CONNECT_TIMEOUT)`)), timeoutMs + 2000);
  });
  try {
    await Promise.race([db.raw('select 1'), timeout]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const name = (error as { name?: string }).name === 'KnexTimeoutError' ? `no connection within ${timeoutMs / 1000} s (DATABASE_CONNECT_TIMEOUT)` : reason;
    throw new DatabaseUnavailable(
      'database.unreachable',
      `cannot reach PostgreSQL at ${where.host}:${where.port}${where.database ? ` (database ${where.database})` : ''}: ${scrub(name, target)}`,
      { host: where.host, port: where.port, database: where.database, reason: scrub(name, target) },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Where the start check warns: the service's logger, or a test's. */
export interface StartLog {
  warn(fields: object, message: string): void;
}

/**
 * The schema must be current before the service or a command uses it: with `migrate` (
 * MIGRATE_ON_START) pending migrations are applied, otherwise their presence refuses the start
 * (a service on an unmigrated database answered every request with a 500). Returns the
 * migrations applied. A database ahead of this release (a newer release's migration Job ran, and
 * this old pod restarted, or is the rollback) is used with one warning: only this release's
 * pending migrations refuse the start.
 */
export async function requireMigrated(db: Database, { migrate, log }: { migrate: boolean; log?: StartLog }): Promise<string[]> {
  const { pending, unknown } = await migrationStatus(db);
  if (unknown.length > 0) {
    log?.warn({ event: 'database.ahead_of_release', unknown }, `the database has ${unknown.length} migration(s) this release does not know (${unknown.join(', ')}): a newer release migrated it; starting, as releases run on the next one's schema`);
  }
  if (migrate) return migrateLatest(db);
  if (pending.length === 0) return [];
  throw new DatabaseUnavailable(
    'database.migrations_pending',
    `the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`portcullis migrate\` first (or set MIGRATE_ON_START=true)`,
    { pending },
  );
}

/** What the service and the CLI do before using the database: reach it, then require its schema. */
export async function openDatabase(db: Database, target: DatabaseTarget, options: { migrate: boolean; log?: StartLog }): Promise<string[]> {
  await checkReachable(db, target);
  return requireMigrated(db, options);
}
