import { Command } from 'commander';
import { loadConfig } from '../config/config';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../db/migrate';
import { findStoredProblems } from '../identity/stored-check';
import { requireYes, withDatabase } from './context';

/** `migrate --status` exits with this while migrations are pending, so a script can wait on it. */
export const PENDING_EXIT_CODE = 3;

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations')
    .option('--status', `list applied and pending migrations, change nothing; exit ${PENDING_EXIT_CODE} while any is pending`)
    .option('--down-all', 'revert every migration (destroys all data; needs --yes)')
    .option('--yes', 'confirm --down-all')
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: boolean; downAll?: boolean; yes?: boolean; json?: boolean }) => {
      if (options.downAll) requireYes(options, 'migrate --down-all reverts every migration and deletes every user, client and role');
      const config = loadConfig(process.env);
      // Reachable and locked (PGlite), without the schema check: changing the schema is this command's job.
      await withDatabase(
        config,
        async (db) => {
          let result: Record<string, string[]>;
          if (options.status) result = await migrationStatus(db);
          else if (options.downAll) result = { reverted: await migrateRollbackAll(db) };
          else result = { applied: await migrateLatest(db) };
          // Rules added after data was written are reported, never applied by dropping data.
          const problems = options.status || options.downAll ? [] : await findStoredProblems(db);
          if (options.json) console.log(JSON.stringify(options.status || options.downAll ? result : { ...result, problems }));
          else {
            for (const [label, names] of Object.entries(result)) console.log(`${label}: ${names.length ? names.join(', ') : '(none)'}`);
            for (const p of problems) console.log(`problem: ${p.where} of ${p.owner}: ${JSON.stringify(p.value)} ${p.problem}`);
          }
          if (options.status && (result.pending?.length ?? 0) > 0) process.exitCode = PENDING_EXIT_CODE;
        },
        { migrate: 'no-check' },
      );
    });
}
