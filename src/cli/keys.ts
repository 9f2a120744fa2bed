import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { AtomicWriteError, rewriteFile } from '../config/atomic-file';
import { loadConfig } from '../config/config';
import { loadKeyScheduleConfig } from '../config/key-schedule';
import { loadSigningKeys } from '../config/signing-keys';
import { generateJwk } from '../tokens/generate';
import { KeySetError, type KeyState } from '../tokens/jwk';
import { planRotation, RotationRefused, type GeneratedAlg, type KeyChange, type KeySummary, type RotationPlan } from '../tokens/key-rotation';
import { CliError, emit } from './context';

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
    .option('--json', 'one line of JSON (the output is JSON either way: this drops the indentation)')
    .action((options: { alg: string; kid?: string; state?: string; json?: boolean }) => {
      if (!(ALGS as readonly string[]).includes(options.alg)) throw new CliError(`--alg must be one of ${ALGS.join(', ')}`);
      if (options.state !== undefined && !(STATES as readonly string[]).includes(options.state)) throw new CliError(`--state must be one of ${STATES.join(', ')}`);
      const jwk = generateJwk(options.alg as (typeof ALGS)[number], options.kid, options.state as KeyState | undefined);
      printJson({ keys: [jwk] }, options.json);
    });

  keys
    .command('public')
    .description('print the public JWK Set of the configured keys (what /.well-known/jwks.json serves)')
    .option('--json', 'one line of JSON (the output is JSON either way: this drops the indentation)')
    .action((options: { json?: boolean }) => {
      const { keys: set } = loadSigningKeys(loadConfig(process.env));
      printJson(set.jwks, options.json);
    });

  keys
    .command('rotate')
    .description('one step of the key schedule: add a next key, or promote next to active, retire the active key and add a new next; drops retired keys whose tokens have expired')
    .option('--file <path>', 'the JWK Set file to rotate (default: SIGNING_KEYS_FILE)')
    .option('--alg <alg>', `algorithm of the new key: ${ALGS.join(', ')} (default: that of the key it follows)`)
    .option('--dry-run', 'print what would change and write nothing')
    .option('--json', 'machine-readable output')
    .action((options: { file?: string; alg?: string; dryRun?: boolean; json?: boolean }) => {
      if (options.alg !== undefined && !(ALGS as readonly string[]).includes(options.alg)) throw new CliError(`--alg must be one of ${ALGS.join(', ')}`);
      // Only the key schedule's settings: a cron job need not carry the database's or Redis's.
      const config = loadKeyScheduleConfig(process.env);
      if (config.defaulted.length > 0) {
        process.stderr.write(
          `warning: ${config.defaulted.join(' and ')} not set here: the defaults are used (a retired key is kept ACCESS_TOKEN_TTL + JWKS_MAX_AGE, a next key waits JWKS_MAX_AGE); give the values the service runs with\n`,
        );
      }
      const file = options.file ?? config.signingKeysFile;
      if (!file) throw new CliError('name the key set to rotate: --file PATH, or SIGNING_KEYS_FILE');
      const rules = {
        now: new Date(),
        retiredLifetimeSec: config.accessTokenTtlSec + config.jwksMaxAgeSec,
        nextMinAgeSec: config.jwksMaxAgeSec,
        alg: options.alg as GeneratedAlg | undefined,
        allowHs256: config.allowHs256,
      };
      let plan: RotationPlan | undefined;
      try {
        if (options.dryRun) plan = planRotation(readKeyFile(file), rules);
        else
          rewriteFile(file, (text) => {
            plan = planRotation(text, rules);
            return plan.text;
          });
      } catch (error) {
        // Nothing was written: the file is as it was.
        if (error instanceof KeySetError || error instanceof RotationRefused) throw new CliError(`${file}: ${error.message}; nothing written`);
        if (error instanceof AtomicWriteError) throw new CliError(`${error.message}; nothing written`);
        throw error;
      }
      const done = plan!;
      emit(options.json, { file, dryRun: options.dryRun ?? false, changes: done.changes, before: done.before, after: done.after }, () =>
        options.dryRun
          ? [`dry run: nothing written to ${file}`, `before: ${states(done.before)}`, `after:  ${states(done.after)}`, ...done.changes.map(describeChange)]
          : done.changes.map(describeChange),
      );
    });

  return keys;
}

/** A key set for people (indented) or, with --json, for scripts (one line). */
function printJson(value: unknown, json: boolean | undefined): void {
  process.stdout.write(`${json ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new AtomicWriteError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
}

const states = (keys: readonly KeySummary[]): string => keys.map(({ kid, state }) => `${kid} ${state}`).join(', ');

function describeChange(change: KeyChange): string {
  switch (change.action) {
    case 'added':
      return `added ${change.kid} (${change.alg}) as next: published, not signing yet`;
    case 'promoted':
      return `promoted ${change.kid}: next -> active, signs new tokens`;
    case 'retired':
      return `retired ${change.kid}: active -> retired, verifies the tokens it signed until they expire`;
    case 'stamped':
      return change.from === 'next'
        ? `stamped ${change.kid}: next since an unknown time, timed from now; promoted by a rotation from ${change.until}`
        : `stamped ${change.kid}: retired since an unknown time, timed from now; removed by a rotation from ${change.until}`;
    case 'removed':
      return `removed ${change.kid}: retired at ${change.retiredAt}, longer ago than ACCESS_TOKEN_TTL + JWKS_MAX_AGE`;
  }
}
