import { Command } from 'commander';
import { loadConfig } from '../config/config';
import { createDatabase, databaseTarget } from '../db/database';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../db/migrate';
import { findStoredProblems } from '../identity/stored-check';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations')
    .option('--status', 'list applied and pending migrations, change nothing')
    .option('--down-all', 'revert every migration (destroys data)')
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: boolean; downAll?: boolean; json?: boolean }) => {
      const config = loadConfig(process.env);
      const db = createDatabase(databaseTarget(config));
      try {
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
      } finally {
        await db.destroy();
      }
    });
}
