import type { Database } from '../db/database';
import { changedSettingsForAudit, clientSettingsForAudit } from './client-audit';
import { revokeClientTokens, type ClientLifecycleDeps } from './client-lifecycle';
import { deleteClient } from './clients';
import { IdentityError } from './errors';
import { checkRevision, recordRevision, RevisionRefused, takeoverRefusal, type DeclaredRevision, type RevisionCheck } from './managed-client-revisions';
import { applyOne, type ClientChange, type ManagedClient } from './managed-client-sync';

// Clients as code (issue 15): the clients a file declares are made to match it in one
// transaction (managed-client-sync.ts does one client). This module decides what to create,
// change, prune and release, and marks the clients it manages (`clients.managed_by`), which the
// admin API and the CLI then refuse to change.

export type { ClientChange, ManagedClient, ManagedSecret, SecretChanges } from './managed-client-sync';
export { RevisionRefused, type DeclaredRevision, type RevisionCheck } from './managed-client-revisions';

export interface ApplyResult {
  readonly dryRun: boolean;
  readonly created: readonly string[];
  readonly changed: readonly ClientChange[];
  readonly unchanged: readonly string[];
  readonly pruned: readonly string[];
  /** Managed clients the file no longer declares, kept (no prune) and no longer managed. */
  readonly released: readonly string[];
  /** Only when the file or its mark has a revision. In a dry run `refused` says the apply would be refused. */
  readonly revision?: RevisionCheck;
  /** For the audit trail: a created client's settings, a changed one's new values (client-audit.ts).
   *  A list, not an object keyed by id: an id such as `secret` would be redacted as a key. */
  readonly settings: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface ApplyOptions {
  /** What `managed_by` names: the file's top-level `name`, else its absolute path. Prune and release touch only clients with this mark. */
  readonly managedBy: string;
  /** Delete managed clients the file no longer declares (otherwise they are released: kept, unmanaged). */
  readonly prune: boolean;
  /** Work it all out, in the transaction, then roll it back. */
  readonly dryRun: boolean;
  /** The file's revision and declaration digest; absent: a file without a revision. */
  readonly revision?: DeclaredRevision;
}

export type ManagedClientsDeps = ClientLifecycleDeps & { readonly db: Database };

/** One database's lock for applying clients files: instances starting together apply one after another. */
const APPLY_LOCK = "hashtext('portcullis:clients-file')";

/** Thrown inside the transaction to roll a dry run back; carries what it would have done. */
class DryRun extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run');
  }
}

/** A rule broken by one declared client: its place and id lead the message. */
function forClient(index: number, id: string, error: unknown): unknown {
  if (error instanceof IdentityError) return new IdentityError(error.code, `clients[${index}] (${id}): ${error.message}`);
  return error;
}

/**
 * Makes the declared clients exist as declared, in one transaction: created, or changed to
 * match (the settings and the secrets), and marked as managed by `managedBy`. A client that
 * breaks a rule refuses the whole set (IdentityError, nothing written). Clients marked with this
 * `managedBy` that the set no longer declares are deleted with `prune` (their tokens ended
 * after the commit), else released. Clients made by hand, or managed by another mark, are never touched
 * unless declared. A file's revision lower than the mark's last, or the same with another
 * declaration, or none once the mark has one, is refused before anything changes
 * (RevisionRefused; a dry run reports it in `revision.refused` instead).
 */
export async function applyManagedClients(deps: ManagedClientsDeps, declared: readonly ManagedClient[], options: ApplyOptions): Promise<ApplyResult> {
  const now = new Date(deps.clock.now());
  const result = await inTransaction(deps, declared, options, now);
  await endPrunedTokens(deps, result);
  return result;
}

/** The pruned clients' tokens could not all be ended: the apply itself is committed. */
export class PrunedTokensNotEnded extends Error {
  constructor(
    readonly result: ApplyResult,
    readonly clientIds: readonly string[],
    cause: unknown,
  ) {
    super(`pruned ${clientIds.join(', ')}, but their access tokens could not be ended (${cause instanceof Error ? cause.message : String(cause)}); they stay valid until they expire (ACCESS_TOKEN_TTL)`, { cause });
    this.name = 'PrunedTokensNotEnded';
  }
}

/**
 * The pruned clients' tokens end once their deletion is committed: the token store is outside
 * the transaction, and revoking first would end the tokens of clients that a failed commit
 * keeps. Every one is tried; a failure is reported with the committed result.
 */
async function endPrunedTokens(deps: ManagedClientsDeps, result: ApplyResult): Promise<void> {
  if (result.dryRun) return;
  const failed: string[] = [];
  let cause: unknown;
  for (const id of result.pruned) {
    try {
      await revokeClientTokens(deps, id);
    } catch (error) {
      failed.push(id);
      cause ??= error;
    }
  }
  if (failed.length > 0) throw new PrunedTokensNotEnded(result, failed, cause);
}

async function inTransaction(deps: ManagedClientsDeps, declared: readonly ManagedClient[], options: ApplyOptions, now: Date): Promise<ApplyResult> {
  try {
    return await deps.db.transaction(async (trx) => {
      await trx.raw(`select pg_advisory_xact_lock(${APPLY_LOCK})`);
      // Under the lock: an apply of a newer revision on another instance is committed or not begun.
      const declaredRevision = options.revision ?? { revision: undefined, digest: '' };
      const marks = new Map((await trx('clients').select<Array<{ id: string; managed_by: string | null }>>('id', 'managed_by')).map((row) => [row.id, row.managed_by]));
      const takenFrom = new Map(declared.flatMap((client) => (marks.get(client.id) ? [[client.id, marks.get(client.id)!] as const] : [])));
      const takeover = await takeoverRefusal(trx, options.managedBy, takenFrom);
      const checked = await checkRevision(trx, options.managedBy, declaredRevision);
      const revision = takeover === undefined ? checked : { ...(checked ?? { mark: options.managedBy, file: declaredRevision.revision ?? null, stored: null }), refused: checked?.refused ?? takeover };
      // A dry run goes on to show what the file differs by.
      if (revision?.refused !== undefined && !options.dryRun) throw new RevisionRefused({ ...revision, refused: revision.refused });
      const created: string[] = [];
      const changed: ClientChange[] = [];
      const unchanged: string[] = [];
      for (const [index, client] of declared.entries()) {
        const outcome = await applyOne(trx, client, marks.get(client.id) ?? null, options.managedBy, now).catch((error: unknown) => {
          throw forClient(index, client.id, error);
        });
        if (outcome === 'created') created.push(client.id);
        else if (outcome === 'unchanged') unchanged.push(client.id);
        else changed.push(outcome);
      }
      const declaredIds = new Set(declared.map((client) => client.id));
      // Only this file's clients: another file's (or another mark's) are that file's business.
      const dropped = [...marks].filter(([id, mark]) => mark === options.managedBy && !declaredIds.has(id)).map(([id]) => id);
      // A file that declares nothing is more likely cut short or emptied by mistake than meant:
      // it may release its clients, never delete them all (README "Clients as code").
      if (options.prune && declared.length === 0 && dropped.length > 0) {
        throw new IdentityError('invalid_client', `declares no clients: a prune would delete all ${dropped.length} clients it manages (${dropped.join(', ')}); refused (apply it without prune to release them)`);
      }
      const pruned = options.prune ? dropped : [];
      for (const id of pruned) await deleteClient(trx, id, { by: 'clients-file' });
      // Without prune a client dropped from the file stays, and is no longer the file's: the
      // admin API and the CLI may change or delete it again.
      const released = options.prune ? [] : dropped;
      if (released.length > 0) await trx('clients').whereIn('id', released).update({ managed_by: null });
      await recordRevision(trx, options.managedBy, declaredRevision, now);
      const byId = new Map(declared.map((client) => [client.id, { ...client, name: client.name ?? client.id }]));
      const settings = [
        ...created.map((id) => ({ id, ...clientSettingsForAudit(byId.get(id)!) })),
        ...changed.map((change) => ({ id: change.id, ...changedSettingsForAudit(byId.get(change.id)!, change.fields) })),
      ];
      const result: ApplyResult = { dryRun: options.dryRun, created, changed, unchanged, pruned, released, settings, ...(revision ? { revision } : {}) };
      if (options.dryRun) throw new DryRun(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    throw error;
  }
}

export { clientManager } from './client-manager';
