import { userInfo } from 'node:os';
import type { AdminAction } from '../events/catalogue';
import type { EventHub } from '../events/hub';

/** The CLI's actor: the operating-system account that ran it (there is no token to name one). */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * One admin.action for a change the CLI made, as the admin API records its own (README "Audit
 * events"): after the change is committed, never with a secret or password.
 */
export function auditCli(deps: { readonly events: EventHub }, action: AdminAction, target: string, changes: Readonly<Record<string, unknown>> = {}): void {
  deps.events.emit('admin.action', { actor: cliActor(), action, target, outcome: 'success', changes, via: 'cli' });
}
