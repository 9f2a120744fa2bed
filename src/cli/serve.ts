import { Command } from 'commander';
import { runServer } from '../main';

export function serveCommand(): Command {
  return new Command('serve').description('run the HTTP service (the default command)').action(async () => {
    await runServer(process.env);
  });
}
