import type { Logger } from '../logging/logger';
import { subscribeAuditFile } from './audit-file';
import { isAudited } from './audit-record';
import { EventHub } from './hub';
import { subscribeLog } from './log-subscriber';

export interface EventsOptions {
  /** AUDIT_LOG_FILE: audited events are also appended there. */
  readonly auditLogFile?: string | undefined;
  /** Where audited events are logged instead of `log` (the CLI: stderr at LOG_LEVEL, while its own lines start at warn). */
  readonly auditLog?: Logger | undefined;
}

/**
 * The hub as the service (and the CLI, and tests) use it: the log subscribed, and the audit file
 * when configured. Metrics subscribe to the returned hub themselves. A listener that throws is
 * logged once per throw, never rethrown into the request.
 */
export function createEvents(log: Logger, options: EventsOptions = {}): EventHub {
  const hub = new EventHub((error, name) => log.error({ event: 'events.listener_failed', eventName: name, err: error }, 'an event listener failed; the request went on'));
  const { auditLog } = options;
  if (auditLog === undefined) subscribeLog(hub, log);
  else {
    subscribeLog(hub, log, (name) => !isAudited(name));
    subscribeLog(hub, auditLog, isAudited);
  }
  if (options.auditLogFile !== undefined) hub.addCloser(subscribeAuditFile(hub, options.auditLogFile, { log }));
  return hub;
}
