import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

// Rewrites a file that a running service watches (SIGNING_KEYS_FILE) so that no reader ever sees
// half of it, and so that two rewrites cannot interleave.
//
// The new content goes to a temp file beside the old one (same directory, so the rename cannot
// cross file systems), with the old one's mode and owner, is fsynced, and is renamed over it:
// rename(2) replaces the name in one step, so a reader opens either the old file or the new one.
//
// The temp file has a fixed name and is created with O_EXCL before the old file is read: it is
// the lock too. A second run meanwhile finds it and stops, instead of rewriting from a copy the
// first run is about to replace; the rename that publishes the new file also releases the lock.
// One file to reason about instead of a lock file beside a temp file, and no advisory locks
// (which Node does not offer, and NFS keeps badly).
//
// A run holds the temp file for milliseconds. One older than STALE_AFTER_MS was left by a run
// that died (a reboot, an OOM kill) before its rename, so the file it meant to replace is still
// the old one, whole: the leftover is removed and the rewrite goes on, so a cron job does not stop
// rotating for good after one bad night. (Two runs that both find the same leftover at the same
// instant could both go on; that needs a crash and then two runs started within microseconds.)

export class AtomicWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AtomicWriteError';
  }
}

/** A temp file this old is a crashed run's leftover, not a run in progress. */
export const STALE_AFTER_MS = 60_000;

/** The name of the temp file (and lock) beside `file`. */
export function pendingPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.pending`);
}

const code = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? 'unknown error';

/**
 * Reads `file`, passes its text to `update`, and puts what `update` returns in its place
 * atomically. `update` may throw: nothing is written then. A symbolic link is followed: the file
 * it names is replaced, the link stays.
 */
export function rewriteFile(file: string, update: (text: string) => string, now: number = Date.now()): void {
  let target: string;
  try {
    target = realpathSync(file);
  } catch (error) {
    throw new AtomicWriteError(`cannot read ${file} (${code(error)})`);
  }
  const stat = statSync(target);
  if (!stat.isFile()) throw new AtomicWriteError(`${file} is not a regular file`);
  const pending = pendingPath(target);

  let fd = lock(file, pending, stat.mode & 0o600, now);

  let renamed = false;
  try {
    const text = update(readFileSync(target, 'utf8'));
    fchmodSync(fd, stat.mode & 0o7777);
    // The service reads the file as its owner: a copy owned by whoever ran this (root in a cron
    // job) could be unreadable to it.
    if (stat.uid !== process.getuid?.() || stat.gid !== process.getgid?.()) {
      try {
        fchownSync(fd, stat.uid, stat.gid);
      } catch (error) {
        throw new AtomicWriteError(`cannot give the new ${file} its owner (uid ${stat.uid}, gid ${stat.gid}): ${code(error)}; run as that user or as root`);
      }
    }
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(pending, target);
    renamed = true;
    syncDirectory(path.dirname(target));
  } finally {
    if (fd !== -1) closeSync(fd);
    if (!renamed) removeQuietly(pending);
  }
}

/** Creates the temp file exclusively; a leftover older than STALE_AFTER_MS is removed first. */
function lock(file: string, pending: string, mode: number, now: number): number {
  for (let attempt = 0; ; attempt += 1) {
    try {
      // 'wx': O_CREAT | O_EXCL. The mode is narrowed by the umask here and set exactly later.
      return openSync(pending, 'wx', mode);
    } catch (error) {
      if (code(error) !== 'EEXIST') throw new AtomicWriteError(`cannot create ${pending} (${code(error)}): the directory must be writable to replace ${file} in one step`);
      const left = leftover(pending);
      if (left === 'other') throw new AtomicWriteError(`${pending} exists and is not a file this command made (a link or a directory): remove it, then run again`);
      if (attempt === 0 && left !== undefined && now - left > STALE_AFTER_MS) {
        removeQuietly(pending);
        continue;
      }
      throw new AtomicWriteError(`${pending} exists: another rewrite of ${file} is running; try again in a minute`);
    }
  }
}

/** What is at the temp file's name (not following a link): a regular file's mtime, 'other', or undefined if gone. */
function leftover(pending: string): number | 'other' | undefined {
  try {
    const stat = lstatSync(pending);
    return stat.isFile() ? stat.mtimeMs : 'other';
  } catch {
    return undefined;
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone; the error that brought us here is the one to report.
  }
}

// The rename itself is durable only once the directory is: without this, a power cut could bring
// back the old name after the new file was reported written.
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename has happened all the same.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
