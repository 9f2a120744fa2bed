import type { AdminAction, Origin } from '../events/catalogue';
import type { EventHub } from '../events/hub';

/** Who did it: the subject of the admin's access token, and its username when it has one. */
export interface Actor extends Origin {
  readonly sub: string;
  readonly username: string | undefined;
  readonly clientId: string;
  /** The scopes of the actor's token: what they may grant. */
  readonly scopes: readonly string[];
}

/** One admin.action per change made through the admin API: actor, target, what changed. Never a password or a secret. */
export function audit(events: EventHub, action: AdminAction, actor: Actor, target: string, changes: Readonly<Record<string, unknown>> = {}): void {
  events.emit('admin.action', { actor: actor.sub, actorUsername: actor.username, actorClient: actor.clientId, action, target, outcome: 'success', changes, via: 'api', ip: actor.ip, requestId: actor.requestId });
}
