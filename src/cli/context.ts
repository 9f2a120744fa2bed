import { systemClock } from '../clock';
import { loadConfig } from '../config/config';
import { createDatabase, databaseTarget } from '../db/database';
import { migrateLatest } from '../db/migrate';
import type { Deps } from '../deps';
import { createEvents } from '../events/create-events';
import { IdentityError } from '../identity/errors';
import { Passwords } from '../identity/passwords';
import { createLogger } from '../logging/logger';
import { createTokenStores } from '../store/create-store';
import { memoryTokenStores } from '../store/memory/memory-store';

/** Thrown for bad command input: printed as one line, exit code 1. */
export class CliError extends Error {}

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
  const target = databaseTarget(config);
  const db = createDatabase(target, log);
  try {
    if (config.migrateOnStart) await migrateLatest(db);
    if (revokes && !config.redis) {
      log.warn(
        { event: 'cli.no_shared_store' },
        'Redis is not configured (REDIS_URL, or REDIS_MODE=sentinel or cluster): the change is saved, but tokens a running service already issued stay valid until they expire',
      );
    }
    const stores = (revokes || readsStore) && config.redis ? await createTokenStores(config, log) : memoryTokenStores();
    // The CLI's changes are audited as the admin API's are (admin.action, via: 'cli').
    const events = createEvents(log, { auditLogFile: config.auditLogFile });
    try {
      return await run({ config, db, dbKind: target.kind, ...stores, passwords: new Passwords(config.argon2), log, events, clock: systemClock });
    } finally {
      events.close();
      await stores.storage.close();
    }
  } catch (error) {
    if (error instanceof IdentityError) throw new CliError(error.message);
    throw error;
  } finally {
    await db.destroy();
  }
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
