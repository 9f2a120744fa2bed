#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config';
import { StartRefusal } from '../start-refusal';
import { clientCommand } from './client';
import { clientsCommand } from './clients';
import { CliError, cliErrorOf } from './context';
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

// Under --json every error is one JSON object on stderr, usage errors too: commander's own
// message is held back and the error is thrown to the handler below instead of exiting.
const json = process.argv.slice(2).includes('--json');
function configure(command: Command): void {
  command.exitOverride();
  if (json) command.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const sub of command.commands) configure(sub);
}
configure(program);

/** The error's code and message: `error`/`error_description` under --json, else one line. */
function describe(error: unknown): { code: string; message: string; text: string; problems?: readonly string[] } {
  const known = cliErrorOf(error);
  if (known instanceof CliError) return { code: known.code, message: known.message, text: `portcullis: ${known.message}` };
  if (error instanceof ConfigError) return { code: 'invalid_config', message: `invalid configuration: ${error.problems.join('; ')}`, text: error.message, problems: error.problems };
  if (error instanceof CommanderError) return { code: 'usage', message: error.message.replace(/^error: /, ''), text: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal_error', message, text: `portcullis: ${message}` };
}

program.parseAsync(process.argv).catch((error: unknown) => {
  // --help and --version end here too, successfully.
  if (error instanceof CommanderError && error.exitCode === 0) process.exit(0);
  // The service logged why it did not start (main.ts); the text mode's commander errors are printed.
  const printed = (error instanceof StartRefusal && error.logged) || (error instanceof CommanderError && !json);
  if (!printed) {
    const { code, message, text, problems } = describe(error);
    process.stderr.write(json ? `${JSON.stringify({ error: code, error_description: message, ...(problems ? { problems } : {}) })}\n` : `${text}\n`);
  }
  process.exit(error instanceof CommanderError ? error.exitCode || 1 : 1);
});
