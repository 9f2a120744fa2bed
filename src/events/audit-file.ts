import { closeSync, fchmodSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { redactSecrets, type Logger } from '../logging/logger';
import { isAudited } from './audit-record';
import type { EventHub } from './hub';
import { eventRecord } from './log-subscriber';

/** How often the path is compared with the open file, to follow a log rotation. */
export const AUDIT_REOPEN_CHECK_MS = 1000;

export interface AuditFileOptions {
  /** Where a failing or recovered file is reported (once per failure, not per line). */
  readonly log?: Logger;
  readonly now?: () => number;
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
    // An existing file keeps its owner; only its mode is tightened (a file made by an earlier run
    // with a wider umask). Only a regular file: AUDIT_LOG_FILE=/dev/stdout must not chmod a tty.
    if (stat.isFile() && (stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    return { fd, dev: stat.dev, ino: stat.ino };
  } catch (error) {
    closeSync(fd);
    throw error;
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
  const reopenCheckMs = options.reopenCheckMs ?? AUDIT_REOPEN_CHECK_MS;
  let file: OpenFile | undefined = openAuditFile(path);
  let checkedAt = now();
  let failing: { readonly since: number; dropped: number } | undefined;

  const followRotation = (at: number): void => {
    if (file !== undefined && at - checkedAt < reopenCheckMs) return;
    checkedAt = at;
    let current: { dev: number; ino: number } | undefined;
    try {
      current = statSync(path);
    } catch {
      current = undefined; // moved away and not yet recreated: create it
    }
    if (file !== undefined && current !== undefined && current.dev === file.dev && current.ino === file.ino) return;
    const previous = file;
    file = openAuditFile(path);
    if (previous !== undefined) closeSync(previous.fd);
  };

  const unsubscribe = hub.onAny((event) => {
    if (!isAudited(event.name)) return;
    const at = now();
    const line = `${JSON.stringify({ time: new Date(at).toISOString(), ...(redactSecrets(eventRecord(event)) as Record<string, unknown>) })}\n`;
    try {
      followRotation(at);
      if (file === undefined) throw new Error('audit file not open');
      writeSync(file.fd, line);
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
