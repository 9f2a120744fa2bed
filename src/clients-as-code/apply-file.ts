import { IdentityError } from '../identity/errors';
import { applyManagedClients, type ApplyResult, type ManagedClientsDeps } from '../identity/managed-clients';
import { ClientsFileError, readClientsFile, resolveClients } from '../config/clients-file';

// Clients as code (README "Clients as code"): a clients file read (config/clients-file.ts) and
// applied to the database (identity/managed-clients.ts), once: what the service's watcher
// (watch.ts) and `portcullis clients apply` both do.

export interface ApplyFileOptions {
  readonly prune: boolean;
  readonly dryRun: boolean;
}

/**
 * Reads the file (and every secret it references) and applies it in one transaction. Anything
 * wrong with it, including a client that breaks a rule, is a ClientsFileError naming the file;
 * nothing is written then. `secretFiles` hears of the referenced secret files as soon as the
 * file parses, even when one of them cannot be read yet (the watcher waits for it to appear).
 * `text`: the file's content as the caller read it (watch.ts, once it held still).
 */
export async function applyClientsFile(deps: ManagedClientsDeps, file: string, options: ApplyFileOptions, secretFiles?: (paths: readonly string[]) => void, text?: string): Promise<ApplyResult> {
  const declared = await readClientsFile(file, text);
  secretFiles?.(declared.secretFiles);
  try {
    return await applyManagedClients(deps, resolveClients(declared), { managedBy: declared.managedBy, ...options });
  } catch (error) {
    if (error instanceof IdentityError) throw new ClientsFileError(file, error.message);
    throw error;
  }
}

/** What a log line or the CLI says of an apply: ids and field names, never a secret. */
export function describeApply(result: ApplyResult): { created: readonly string[]; changed: Record<string, readonly string[]>; unchanged: number; pruned: readonly string[]; released: readonly string[] } {
  return {
    created: result.created,
    changed: Object.fromEntries(result.changed.map((change) => [change.id, change.fields])),
    unchanged: result.unchanged.length,
    pruned: result.pruned,
    released: result.released,
  };
}
