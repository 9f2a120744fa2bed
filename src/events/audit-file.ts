import { closeSync, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import { redactSecrets } from '../logging/logger';
import { isAudited } from './audit-record';
import type { EventHub } from './hub';
import { eventRecord } from './log-subscriber';

/**
 * AUDIT_LOG_FILE: every audited event appended as one JSON line (the log's audit line without
 * pino's level and service fields, with `time`). The file is opened once, for append, and made
 * 0600 (it names users and addresses); each line is one synchronous write, so a line is on disk
 * (in the page cache) before the response that caused it, and lines of one process never
 * interleave. Secret-named fields are redacted as the logger does, at any depth.
 */
export function subscribeAuditFile(hub: EventHub, path: string, now: () => number = Date.now): () => void {
  const fd = openSync(path, 'a', 0o600);
  try {
    // An existing file keeps its owner; only its mode is tightened (a file made by an earlier run with a wider umask).
    if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let open = true;
  const unsubscribe = hub.onAny((event) => {
    if (!open || !isAudited(event.name)) return;
    const line = { time: new Date(now()).toISOString(), ...(redactSecrets(eventRecord(event)) as Record<string, unknown>) };
    writeSync(fd, `${JSON.stringify(line)}\n`);
  });
  return () => {
    if (!open) return;
    open = false;
    unsubscribe();
    closeSync(fd);
  };
}
