#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/config';
import { migrateCommand } from './migrate';
import { serveCommand } from './serve';

// The `portcullis` command. Each command group lives in its own file and registers itself here.
const program = new Command()
  .name('portcullis')
  .description('OAuth 2.0 authorization server')
  .showHelpAfterError();

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(migrateCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
