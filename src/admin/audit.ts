import type { Logger } from '../logging/logger';

/** Who did it: the subject of the admin's access token, and its username when it has one. */
export interface Actor {
  readonly sub: string;
  readonly username: string | undefined;
  readonly clientId: string;
  /** The scopes of the actor's token: what they may grant. */
  readonly scopes: readonly string[];
}

/** One audit line per change: actor, target, what changed. Never a password or a secret. */
export function audit(log: Logger, event: string, actor: Actor, target: string, changes: Readonly<Record<string, unknown>> = {}): void {
  log.info({ event, actor: actor.sub, actorUsername: actor.username, actorClient: actor.clientId, target, changes }, event);
}
