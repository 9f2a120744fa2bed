import type { AnyEvent, EventName } from './catalogue';

/**
 * The audit trail's common fields, on every audited line (the log's with `audit: true`, and
 * AUDIT_LOG_FILE's): who acted, on whom, through which client, from where, in which request,
 * and whether it worked. The event's own fields follow them.
 */
export interface AuditFields {
  readonly audit: true;
  readonly outcome: 'success' | 'failure';
  /** Who acted: an admin's or user's id, `cli:<os user>`, or the client for a client's own act. */
  readonly actor?: string | undefined;
  /** Whom it was about: the user or client acted on, or the user whose credential was tried. */
  readonly subject?: string | undefined;
  readonly client?: string | undefined;
  readonly address?: string | undefined;
  readonly reqId?: string | undefined;
}

/** Events that are facts about a refusal or an attack: their outcome is `failure`. */
const FAILURES: ReadonlySet<EventName> = new Set<EventName>([
  'refresh.refused',
  'refresh.reuse_detected',
  'code.refused',
  'code.replayed',
  'login.failed',
  'login.throttled',
  'login.disabled',
  'login.subject_under_attack',
  'client_auth.failed',
  'client_auth.throttled',
  'client_auth.subject_under_attack',
  'keys.reload_failed',
  'admin.refused',
]);

/** Not on the audit trail: introspection answers are the hot path's volume, counted by metrics. */
const NOT_AUDITED: ReadonlySet<EventName> = new Set<EventName>(['introspection.answered']);

export function isAudited(name: EventName): boolean {
  return !NOT_AUDITED.has(name);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The common audit fields of one event, read from its payload's own field names. */
export function auditFields(event: AnyEvent): AuditFields {
  const p = event.payload as Readonly<Record<string, unknown>>;
  const outcome = event.name === 'admin.action' ? event.payload.outcome : FAILURES.has(event.name) ? 'failure' : 'success';
  const user = text(p.userId) ?? text(p.username) ?? text(p.usernameHash);
  return {
    audit: true,
    outcome,
    actor: text(p.actor) ?? user ?? text(p.clientId),
    subject: text(p.target) ?? user ?? (event.name.startsWith('client_auth.') ? text(p.clientId) : undefined),
    client: text(p.actorClient) ?? text(p.clientId),
    address: text(p.ip),
    reqId: text(p.requestId),
  };
}
