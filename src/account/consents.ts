import type { Deps } from '../deps';
import type { Origin } from '../events/catalogue';
import { listConsents, revokeConsent, type Consent } from '../identity/consents';
import { revokeSessionsWhere, type SessionDeps } from '../oauth/sessions';

export type ConsentDeps = Pick<Deps, 'db' | 'log' | 'events'> & Omit<SessionDeps, 'revocations'>;

/** The clients the user has allowed to act for them, and what each may ask for. */
export function myConsents(deps: Pick<Deps, 'db'>, userId: string): Promise<Consent[]> {
  return listConsents(deps.db, userId);
}

/**
 * Withdraws the user's consent to the client, and ends the user's sessions with it: a client
 * the user no longer allows must not go on refreshing the tokens it holds (its access tokens
 * then fail introspection, as after any ended session). The next sign-in through the client
 * asks again. False when the user had not consented to it (another user's consent is none).
 */
export async function withdrawConsent(deps: ConsentDeps, userId: string, clientId: string, origin: Origin = {}): Promise<boolean> {
  if (!(await revokeConsent(deps.db, userId, clientId))) return false;
  const ended = await revokeSessionsWhere(deps, userId, (family) => family.clientId === clientId);
  deps.events.emit('account.consent_revoked', { actor: userId, target: userId, clientId, sessionsEnded: ended.length, ...origin });
  return true;
}
