import path from 'node:path';
import { Command } from 'commander';
import { ClientsFileError } from '../config/clients-file';
import { applyClientsFile, describeApply } from '../clients-as-code/apply-file';
import { hashClientSecret, MIN_SECRET_LENGTH } from '../identity/client-secrets';
import { PrunedTokensNotEnded, type ApplyResult, type ClientChange } from '../identity/managed-clients';
import { auditCli } from './audit';
import { CliError, emit, readPassword, requireYes, withDeps } from './context';

// Clients as code from a CI pipeline (README "Clients as code"): the same apply as CLIENTS_FILE
// in the service, once, with the diff printed.

function describeChange(change: ClientChange): string {
  const fields = change.fields.map((field) => {
    if (field !== 'secrets' || !change.secrets) return field;
    const parts = Object.entries(change.secrets)
      .filter(([, ids]) => ids.length > 0)
      .map(([kind, ids]) => `${kind} ${ids.join(' ')}`);
    return `secrets: ${parts.join(', ')}`;
  });
  return fields.join('; ');
}

/** The file's revision beside the mark's stored one, when either has one. */
function revisionLine(result: ApplyResult): string[] {
  const check = result.revision;
  if (!check) return [];
  const outcome = check.refused !== undefined ? 'would be refused' : result.dryRun ? 'would be applied' : 'applied';
  return [`revision ${check.file ?? 'none'} (stored for ${check.mark}: ${check.stored ?? 'none'}): ${outcome}`];
}

export function diffLines(result: ApplyResult): string[] {
  const verb = (done: string): string => (result.dryRun ? `would be ${done}` : done);
  const lines = [
    ...revisionLine(result),
    ...result.created.map((id) => `${id}: ${verb('created')}`),
    ...result.changed.map((change) => `${change.id}: ${verb('changed')} (${describeChange(change)})`),
    ...result.unchanged.map((id) => `${id}: unchanged`),
    ...result.pruned.map((id) => `${id}: ${verb('pruned')}`),
    ...result.released.map((id) => `${id}: ${verb('released')} (no longer in the file: kept, and no longer managed by it)`),
  ];
  const counts = `${result.created.length} created, ${result.changed.length} changed, ${result.unchanged.length} unchanged, ${result.pruned.length} pruned, ${result.released.length} released`;
  return [...lines, result.dryRun ? `dry run, nothing written: ${counts}` : counts];
}

interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
  yes?: boolean;
  json?: boolean;
}

export function clientsCommand(): Command {
  const clients = new Command('clients').description('clients as code: apply a clients file (YAML or JSON)');

  clients
    .command('apply')
    .description('create or change the clients a file declares to match it, in one transaction, and print the diff; a bad file changes nothing and exits 1')
    .requiredOption('-f, --file <file>', 'the clients file (YAML or JSON), as CLIENTS_FILE')
    .option('--dry-run', 'print what would change, and the file\'s revision beside the stored one (exit 1 when it would be refused); write nothing')
    .option('--prune', 'also delete clients a clients file once managed that this one no longer declares (their tokens end; needs --yes unless --dry-run)')
    .option('--yes', 'confirm the deletions --prune may make')
    .option('--json', 'machine-readable output')
    .action(async (options: ApplyOptions) => {
      const file = path.resolve(options.file);
      const prune = options.prune ?? false;
      const dryRun = options.dryRun ?? false;
      if (prune && !dryRun) requireYes(options, `clients apply --prune deletes the clients ${file} no longer declares and ends their tokens (see them first with --dry-run)`);
      let result: ApplyResult;
      try {
        result = await withDeps(
          async (deps) => {
            const applied = await applyClientsFile(deps, file, { prune, dryRun });
            if (!applied.dryRun) auditCli(deps, 'clients_applied', file, describeApply(applied));
            return applied;
          },
          { revokes: prune && !dryRun },
        );
      } catch (error) {
        if (error instanceof ClientsFileError) throw new CliError(error.message);
        if (!(error instanceof PrunedTokensNotEnded)) throw error;
        // Applied and committed; say so, then fail on the tokens that live on.
        const committed = error.result;
        emit(options.json, committed, () => diffLines(committed));
        throw new CliError(error.message);
      }
      emit(options.json, result, () => diffLines(result));
      // A dry run shows what the file differs by, and fails as the apply would.
      if (result.revision?.refused !== undefined) throw new CliError(`${file}: ${result.revision.refused}`);
    });

  clients
    .command('hash-secret')
    .description('read a client secret on stdin and print its hash, for secretHash in a clients file')
    .option('--json', 'machine-readable output: {"secretHash"}')
    .action(async (options: { json?: boolean }) => {
      const secret = await readPassword({ passwordStdin: true });
      if (secret.length < MIN_SECRET_LENGTH) throw new CliError(`a client secret must be at least ${MIN_SECRET_LENGTH} characters`);
      const secretHash = hashClientSecret(secret);
      emit(options.json, { secretHash }, () => [secretHash]);
    });

  return clients;
}
