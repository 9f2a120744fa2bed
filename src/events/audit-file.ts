import { closeSync, fchmodSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { redactSecrets, type Logger } from '../logging/logger';
import { isAudited } from './audit-record';
import type { EventHub } from './hub';
import { eventRecord } from './log-subscriber';
import { StartRefusal } from '../start-refusal';

/** How often the path is compared with the open file, to follow a log rotation. */
export const AUDIT_REOPEN_CHECK_MS = 1000;

export interface AuditFileOptions {
  /** Where a failing or recovered file is reported (once per failure, not per line). */
  readonly log?: Logger;
  /** Wall-clock time for the lines' `time`. */
  readonly now?: () => number;
  /** Monotonic time for the rotation check (performance.now). */
  readonly monotonic?: () => number;
  readonly reopenCheckMs?: number;
}

/** The open file and which file it is, to tell when the path names another one. */
interface OpenFile {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
}

function openAuditFile(path: string): OpenFile {
  const fd = openSync(path, 'a', 0o600);
  try {
    const stat = fstatSync(fd);
    // An existing file of ours keeps its owner; only its mode is tightened (a file made by an
    // earlier run with a wider umask). Only a regular file (AUDIT_LOG_FILE=/dev/stdout must not
    // chmod a tty), and only our own: a file logrotate created for us with another owner and a
    // mode that lets us write is used as it is (the operator chose its mode).
    if (stat.isFile() && stat.uid === process.getuid?.() && (stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    return { fd, dev: stat.dev, ino: stat.ino };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** What to fix, by the error's code. */
const AUDIT_FILE_HINTS: Readonly<Record<string, string>> = {
  ENOENT: ' (its directory must exist)',
  EACCES: ' (this process may not write the file or create it in its directory)',
  EPERM: ' (this process may not write the file or create it in its directory)',
  EISDIR: ' (the path names a directory, not a file)',
  EROFS: ' (the file system is read-only: mount a writable volume there)',
};

/** The audit file cannot be opened at start: the service refuses to start, the CLI to run (a
 *  change with no record of it is worse than no change). */
export class AuditFileUnavailable extends StartRefusal {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('audit.file_unavailable', `AUDIT_LOG_FILE ${path} cannot be opened for appending: ${reason}${AUDIT_FILE_HINTS[reason] ?? ''}`, { file: path, reason });
    this.name = 'AuditFileUnavailable';
  }
}

function openAtStart(path: string): OpenFile {
  try {
    return openAuditFile(path);
  } catch (error) {
    throw new AuditFileUnavailable(path, (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error)));
  }
}

/** Writes all of `bytes` (a write near a full disk may take only part of them); throws when it cannot. */
function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset);
    if (written <= 0) throw Object.assign(new Error('audit line not written'), { code: 'ENOSPC' });
    offset += written;
  }
}

/**
 * AUDIT_LOG_FILE: every audited event appended as one JSON line (the log's audit line without
 * pino's level and service fields, with `time`). The file is opened for append and made 0600 (it
 * names users and addresses); each line is one synchronous write, so a line is on disk (in the
 * page cache) before the response that caused it, and lines of one process never interleave.
 * Secret-named fields are redacted as the logger does, at any depth.
 *
 * Rotation: at most once a second the path is compared with the open file; when logrotate has
 * moved it away (or it was deleted), the path is opened anew, so no SIGHUP is needed (copytruncate
 * works too: writes append). A write that fails (a full disk, an I/O error) never fails the request:
 * the first failure is one error line (`audit.write_failed`), the lines lost meanwhile are counted,
 * and the first write that works again says so (`audit.write_recovered`, with `dropped`).
 */
export function subscribeAuditFile(hub: EventHub, path: string, options: AuditFileOptions = {}): () => void {
  const now = options.now ?? Date.now;
  // The rotation check runs on the monotonic clock: a wall clock stepped back would stop it.
  const monotonic = options.monotonic ?? (() => performance.now());
  const reopenCheckMs = options.reopenCheckMs ?? AUDIT_REOPEN_CHECK_MS;
  let file: OpenFile | undefined = openAtStart(path);
  let checkedAt = monotonic();
  let failing: { readonly since: number; dropped: number } | undefined;
  let reopenFailing = false;
  // A line cut short by a failing write is ended before the next one, so every line parses.
  let partial = false;

  const followRotation = (): void => {
    const at = monotonic();
    if (file !== undefined && at - checkedAt < reopenCheckMs) return;
    checkedAt = at;
    let current: { dev: number; ino: number } | undefined;
    try {
      current = statSync(path);
    } catch {
      current = undefined; // moved away and not yet recreated: create it
    }
    if (file !== undefined && current !== undefined && current.dev === file.dev && current.ino === file.ino) return;
    let next: OpenFile;
    try {
      next = openAuditFile(path);
    } catch (error) {
      // The old file (rotated away, still ours) takes the lines until the path can be opened.
      if (file === undefined) throw error;
      if (!reopenFailing) options.log?.warn({ event: 'audit.reopen_failed', path, reason: (error as NodeJS.ErrnoException).code ?? String(error) }, 'AUDIT_LOG_FILE could not be opened again after a rotation; writing to the file it replaced');
      reopenFailing = true;
      return;
    }
    reopenFailing = false;
    const previous = file;
    file = next;
    partial = false;
    if (previous !== undefined) closeSync(previous.fd);
  };

  const unsubscribe = hub.onAny((event) => {
    if (!isAudited(event.name)) return;
    const at = now();
    const line = `${JSON.stringify({ time: new Date(at).toISOString(), ...(redactSecrets(eventRecord(event)) as Record<string, unknown>) })}\n`;
    try {
      followRotation();
      if (file === undefined) throw new Error('audit file not open');
      const bytes = Buffer.from(partial ? `\n${line}` : line);
      partial = true;
      writeAll(file.fd, bytes);
      partial = false;
    } catch (error) {
      if (failing === undefined) {
        failing = { since: at, dropped: 0 };
        options.log?.error({ event: 'audit.write_failed', path, reason: (error as NodeJS.ErrnoException).code ?? String(error) }, 'audit lines cannot be written to AUDIT_LOG_FILE; requests go on, lost lines are counted');
      }
      failing.dropped += 1;
      // Look at the path again on the next line: a full disk is often fixed by rotating.
      checkedAt = Number.NEGATIVE_INFINITY;
      return;
    }
    if (failing !== undefined) {
      options.log?.warn({ event: 'audit.write_recovered', path, dropped: failing.dropped, downMs: at - failing.since }, 'AUDIT_LOG_FILE is written again');
      failing = undefined;
    }
  });
  return () => {
    unsubscribe();
    if (file !== undefined) closeSync(file.fd);
    file = undefined;
  };
}
