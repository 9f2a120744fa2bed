import { unwatchFile, watchFile } from 'node:fs';
import { PrunedTokensNotEnded, type ApplyResult, type ManagedClientsDeps } from '../identity/managed-clients';
import type { EventHub } from '../events/hub';
import type { Logger } from '../logging/logger';
import { applyClientsFile, ClientsFileRefused, describeApply } from './apply-file';
import { readSettled, type SettleOptions } from './settle';
import { fileChanged, type FileIdentity } from '../config/file-identity';

// CLIENTS_FILE in the service: applied at start, on SIGHUP and when the file or a secret file it
// names changes. Orchestration (files, the database, the token store, signals), so it lives
// here, above config/ (which only parses) and identity/ (which changes clients).

export interface ClientsWatchDeps extends ManagedClientsDeps {
  readonly log: Logger;
  readonly events: EventHub;
}

export interface ClientsWatch {
  /** Stops watching and waits for an apply in progress. */
  stop(): Promise<void>;
}

/**
 * Applies CLIENTS_FILE at start, then again on SIGHUP and when it, or a secret file it
 * references, changes (polled every second, which follows the symlink swaps of Kubernetes
 * volumes, like SIGNING_KEYS_FILE). Each apply waits until the files hold still (settle.ts). A
 * bad file, at start too, is refused with one `clients.apply_failed` log line and the clients
 * stay as the database has them; the service runs on, and the next SIGHUP or change tries again.
 * A file refused for its `revision` (an older copy than the one applied, say, in a rolling
 * deploy) changes nothing either and is logged as `clients.apply_refused`.
 * Applies run one at a time; `onApplied` runs after each that succeeded (this instance's client
 * caches forget what they held).
 */
export async function startClientsFile(
  deps: ClientsWatchDeps,
  file: string,
  prune: boolean,
  onApplied: (result: ApplyResult) => void,
  settle: SettleOptions = { intervalMs: 500, maxWaitMs: 30_000 },
): Promise<ClientsWatch> {
  let running: Promise<void> = Promise.resolve();
  let queued = false;
  const watched = new Set<string>();

  const onChange = (current: FileIdentity, previous: FileIdentity): void => {
    if (fileChanged(current, previous)) request('file changed');
  };
  const watchOnly = (paths: readonly string[]): void => {
    const wanted = new Set([file, ...paths]);
    for (const path of [...watched]) {
      if (wanted.has(path)) continue;
      unwatchFile(path, onChange);
      watched.delete(path);
    }
    for (const path of wanted) {
      if (watched.has(path)) continue;
      watchFile(path, { interval: 1000, persistent: false }, onChange);
      watched.add(path);
    }
  };
  const applied = (trigger: string, result: ApplyResult): void => {
    onApplied(result);
    const described = describeApply(result);
    deps.log.info({ event: 'clients.applied', file, trigger, ...described }, 'CLIENTS_FILE applied');
    // On the audit trail as the CLI's `clients apply` is, when it changed something (every
    // instance applies the file at start; an apply that finds nothing to do is no change).
    const changedAny = described.created.length + Object.keys(described.changed).length + described.pruned.length + described.released.length > 0;
    if (changedAny) deps.events.emit('admin.action', { actor: 'service:clients_file', action: 'clients_applied', target: file, outcome: 'success', changes: { trigger, ...described }, via: 'clients_file' });
  };
  const applyOnce = async (trigger: string): Promise<void> => {
    try {
      const text = await readSettled(file, () => [...watched].filter((path) => path !== file), settle);
      applied(trigger, await applyClientsFile(deps, file, { prune, dryRun: false }, watchOnly, text));
    } catch (error) {
      if (!(error instanceof PrunedTokensNotEnded)) throw error;
      // Committed: the clients are as the file says; only the pruned clients' tokens live on.
      applied(trigger, error.result);
      deps.log.error({ event: 'clients.prune_revoke_failed', file, trigger, clients: error.clientIds, reason: error.message }, 'pruned clients\' tokens were not ended');
    }
  };
  const reapply = async (trigger: string): Promise<void> => {
    try {
      await applyOnce(trigger);
    } catch (error) {
      if (error instanceof ClientsFileRefused) {
        // An older copy is what a rolling deploy leaves on the instances not yet replaced: a
        // warning. The same revision with another declaration, or none, is a change that will
        // not apply until the file is fixed: an error.
        const { mark, file: fileRevision, stored: storedRevision } = error.check;
        const older = fileRevision !== null && storedRevision !== null && fileRevision < storedRevision;
        deps.log[older ? 'warn' : 'error']({ event: 'clients.apply_refused', file, trigger, mark, fileRevision, storedRevision, reason: error.message }, 'CLIENTS_FILE refused for its revision; the clients stay as they were');
        return;
      }
      // The message names the file and the problem; it never holds a secret (clients-file.ts).
      const reason = error instanceof Error ? error.message : String(error);
      deps.log.error({ event: 'clients.apply_failed', file, trigger, reason }, 'CLIENTS_FILE refused; the clients stay as they were');
    }
  };
  // A burst of signals and changes while an apply runs makes one more apply, not one each.
  const request = (trigger: string): void => {
    if (queued) return;
    queued = true;
    running = running.then(() => {
      queued = false;
      return reapply(trigger);
    });
  };
  const onHangup = (): void => request('SIGHUP');
  const stop = async (): Promise<void> => {
    process.off('SIGHUP', onHangup);
    for (const path of watched) unwatchFile(path, onChange);
    watched.clear();
    await running;
  };

  process.on('SIGHUP', onHangup);
  watchOnly([]);
  running = reapply('start');
  await running;
  return { stop };
}
