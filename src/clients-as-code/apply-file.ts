import { IdentityError } from '../identity/errors';
import { applyManagedClients, RevisionRefused, type ApplyResult, type ManagedClientsDeps, type RevisionCheck } from '../identity/managed-clients';
import { ClientsFileError, readClientsFile, resolveClients } from '../config/clients-file';

// Clients as code (README "Clients as code"): a clients file read (config/clients-file.ts) and
// applied to the database (identity/managed-clients.ts), once: what the service's watcher
// (watch.ts) and `portcullis clients apply` both do.

export interface ApplyFileOptions {
  readonly prune: boolean;
  readonly dryRun: boolean;
}

/**
 * The file is refused for its revision (older than the mark's last, the same with another
 * declaration, or none once the mark has one): nothing changed. Not a bad file: the service
 * logs it as `clients.apply_refused`.
 */
export class ClientsFileRefused extends ClientsFileError {
  constructor(
    file: string,
    readonly check: RevisionCheck & { readonly refused: string },
  ) {
    super(file, check.refused);
    this.name = 'ClientsFileRefused';
  }
}

/**
 * Reads the file (and every secret it references) and applies it in one transaction. Anything
 * wrong with it, including a client that breaks a rule, is a ClientsFileError naming the file;
 * nothing is written then. A file refused for its revision is a ClientsFileRefused (a dry run
 * reports it in `revision.refused` instead). `secretFiles` hears of the referenced secret files
 * as soon as the file parses, even when one of them cannot be read yet (the watcher waits for it
 * to appear). `text`: the file's content as the caller read it (watch.ts, once it held still).
 */
export async function applyClientsFile(deps: ManagedClientsDeps, file: string, options: ApplyFileOptions, secretFiles?: (paths: readonly string[]) => void, text?: string): Promise<ApplyResult> {
  const declared = await readClientsFile(file, text);
  secretFiles?.(declared.secretFiles);
  try {
    return await applyManagedClients(deps, resolveClients(declared), { managedBy: declared.managedBy, revision: { revision: declared.revision, digest: declared.digest }, ...options });
  } catch (error) {
    if (error instanceof RevisionRefused) throw new ClientsFileRefused(file, error.check);
    if (error instanceof IdentityError) throw new ClientsFileError(file, error.message);
    throw error;
  }
}

/** What a log line or the CLI says of an apply: ids and field names, never a secret. */
export function describeApply(result: ApplyResult): {
  created: readonly string[];
  changed: Record<string, readonly string[]>;
  unchanged: number;
  pruned: readonly string[];
  released: readonly string[];
  revision?: number | null;
  previousRevision?: number | null;
  /** What each created client may do, and the new values of a changed one's settings (no secret). */
  settings: ReadonlyArray<Readonly<Record<string, unknown>>>;
} {
  return {
    created: result.created,
    changed: Object.fromEntries(result.changed.map((change) => [change.id, change.fields])),
    unchanged: result.unchanged.length,
    pruned: result.pruned,
    released: result.released,
    settings: result.settings,
    ...(result.revision ? { revision: result.revision.file, previousRevision: result.revision.stored } : {}),
  };
}
