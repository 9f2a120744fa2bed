#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/config';
import { clientCommand } from './client';
import { clientsCommand } from './clients';
import { keysCommand } from './keys';
import { migrateCommand } from './migrate';
import { roleCommand } from './role';
import { serveCommand } from './serve';
import { sessionCommand } from './session';
import { userCommand } from './user';

// The `portcullis` command. Each command group lives in its own file and registers itself here.
const program = new Command()
  .name('portcullis')
  .description('OAuth 2.0 authorization server')
  .showHelpAfterError();

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(migrateCommand());
program.addCommand(userCommand());
program.addCommand(clientCommand());
program.addCommand(clientsCommand());
program.addCommand(roleCommand());
program.addCommand(sessionCommand());
program.addCommand(keysCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
