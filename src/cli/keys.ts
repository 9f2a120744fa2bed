import { Command } from 'commander';
import { loadConfig } from '../config/config';
import { loadSigningKeys } from '../config/signing-keys';
import { generateJwk } from '../tokens/generate';
import type { KeyState } from '../tokens/jwk';
import { CliError } from './context';

const ALGS = ['ES256', 'EdDSA', 'RS256'] as const;
const STATES = ['next', 'active', 'retired'] as const;

export function keysCommand(): Command {
  const keys = new Command('keys').description('signing keys');

  keys
    .command('generate')
    .description('print a new private JWK Set (one key) to stdout')
    .option('--alg <alg>', `algorithm: ${ALGS.join(', ')}`, 'ES256')
    .option('--kid <kid>', 'key id (default: date and random suffix)')
    .option('--state <state>', 'next or active (see the rotation runbook in README)')
    .action((options: { alg: string; kid?: string; state?: string }) => {
      if (!(ALGS as readonly string[]).includes(options.alg)) throw new CliError(`--alg must be one of ${ALGS.join(', ')}`);
      if (options.state !== undefined && !(STATES as readonly string[]).includes(options.state)) throw new CliError(`--state must be one of ${STATES.join(', ')}`);
      const jwk = generateJwk(options.alg as (typeof ALGS)[number], options.kid, options.state as KeyState | undefined);
      process.stdout.write(`${JSON.stringify({ keys: [jwk] }, null, 2)}\n`);
    });

  keys
    .command('public')
    .description('print the public JWK Set of the configured keys (what /.well-known/jwks.json serves)')
    .action(() => {
      const { keys: set } = loadSigningKeys(loadConfig(process.env));
      process.stdout.write(`${JSON.stringify(set.jwks, null, 2)}\n`);
    });

  return keys;
}
