import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientsFileError, readClientsText } from '../config/clients-file';
import { fileVersion } from '../config/file-identity';

// An editor that saves in place, or a copy in progress, leaves a half-written file for a moment;
// applied then (with prune), it would delete every client the missing half declared. So the
// watcher applies only a file that holds still: the same inode, size, ctime and mtime (its own
// and each secret file's) at two looks `intervalMs` apart, and the same content in two reads.

export interface SettleOptions {
  /** Between the two looks. */
  readonly intervalMs: number;
  /** Give up (and apply nothing) when the file still changes after this long. */
  readonly maxWaitMs: number;
}

/** Size and modification time of each path ('-' for one that cannot be stat'ed), and a digest of the file's text. */
function look(file: string, secretFiles: readonly string[]): { stats: string; text: string | undefined; digest: string } {
  const stats = [file, ...secretFiles]
    .map((path) => {
      try {
        const stat = statSync(path);
        return fileVersion(stat);
      } catch {
        return '-';
      }
    })
    .join('|');
  const read = readClientsText(file);
  const text = 'text' in read ? read.text : undefined;
  const digest = text === undefined ? `problem:${'problem' in read ? read.problem : ''}` : createHash('sha256').update(text).digest('hex');
  return { stats, text, digest };
}

/**
 * The file's text once it holds still, or undefined when it cannot be read (the apply then
 * reports why, as for any unreadable file). A ClientsFileError when it is still changing after
 * `maxWaitMs`: nothing is applied, and the next change or SIGHUP tries again.
 */
export async function readSettled(file: string, secretFiles: () => readonly string[], options: SettleOptions): Promise<string | undefined> {
  const started = Date.now();
  let before = look(file, secretFiles());
  for (;;) {
    await sleep(options.intervalMs);
    const after = look(file, secretFiles());
    if (after.stats === before.stats && after.digest === before.digest) return after.text;
    if (Date.now() - started >= options.maxWaitMs) throw new ClientsFileError(file, `still changing after ${Math.round(options.maxWaitMs / 1000)}s: not applied (written in place? write a new file and rename it over the old one)`);
    before = after;
  }
}
