import type { Logger } from '../logging/logger';
import type { AnyEvent, EventName } from './catalogue';
import { auditFields, isAudited } from './audit-record';
import type { EventHub } from './hub';
import { LOG_LINES, type LogLine } from './log-lines';

/** The log line's `event`: the hub's name, except admin actions, which keep their `admin.<action>` names. */
export function logEventName(event: AnyEvent): string {
  return event.name === 'admin.action' ? `admin.${event.payload.action}` : event.name;
}

/**
 * One JSON object per event, as the log and the audit file write it: `event`, the payload's own
 * fields (the request id as `reqId`), and for audited events the audit trail's common fields.
 */
export function eventRecord(event: AnyEvent): Record<string, unknown> {
  const { requestId, ...fields } = event.payload as { readonly requestId?: string } & Record<string, unknown>;
  const record: Record<string, unknown> = { event: logEventName(event), ...fields };
  if (requestId !== undefined) record.reqId = requestId;
  return isAudited(event.name) ? { ...record, ...auditFields(event) } : record;
}

/** The logger subscribes: every event becomes the one log line its call site used to write. */
export function subscribeLog(hub: EventHub, log: Logger, only: (name: EventName) => boolean = () => true): () => void {
  return hub.onAny((event) => {
    if (!only(event.name)) return;
    const line = LOG_LINES[event.name] as LogLine<EventName>;
    if (!log.isLevelEnabled(line.level)) return;
    const message = typeof line.message === 'string' ? line.message : (line.message as (payload: AnyEvent['payload']) => string)(event.payload);
    log[line.level](eventRecord(event), message);
  });
}
