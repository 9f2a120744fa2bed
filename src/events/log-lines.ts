import type { EventMap, EventName } from './catalogue';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** How one event is written to the log: its level and message (the text operators grep for). */
export type LogLine<K extends EventName> = { readonly level: Level; readonly message: string | ((payload: EventMap[K]) => string) };

/** The log line of every event: the same levels and messages the call sites wrote before the hub. */
export const LOG_LINES: { readonly [K in EventName]: LogLine<K> } = {
  'token.issued': { level: 'info', message: 'access token issued' },
  'token.refreshed': { level: 'info', message: 'access token issued by refresh' },
  'token.revoked': { level: 'info', message: (p) => (p.kind === 'refresh_token' ? 'refresh-token family revoked' : 'access token revoked') },
  'refresh.replayed': { level: 'info', message: 'refresh retried within the grace window: same successor' },
  'refresh.reuse_detected': { level: 'warn', message: 'stale refresh token presented: family revoked' },
  'refresh.refused': {
    level: 'info',
    // A refusal after the token was proven ends the family (the user may no longer sign in, or the client was recreated).
    message: (p) => (p.reason === 'client_recreated' ? 'family of a deleted client refused' : p.userId !== undefined ? 'family revoked: its user may no longer sign in' : 'refresh token refused'),
  },
  'session.evicted': { level: 'info', message: 'oldest sessions ended: per-user session limit reached' },
  'code.issued': { level: 'info', message: 'authorization code issued' },
  'code.refused': { level: 'info', message: 'authorization code refused' },
  'code.replayed': { level: 'warn', message: 'authorization code used twice: what it issued is revoked' },
  'consent.granted': { level: 'info', message: 'user approved the client' },
  'introspection.answered': { level: 'debug', message: (p) => (p.active ? 'introspection: active' : 'introspection: inactive') },
  'login.succeeded': { level: 'info', message: 'user signed in on the login page' },
  'login.failed': { level: 'info', message: 'password check failed' },
  'login.throttled': { level: 'warn', message: 'password check refused: too many failures' },
  'login.disabled': { level: 'info', message: 'disabled user refused' },
  'login.subject_under_attack': { level: 'warn', message: 'many failures for one subject from anywhere in 24 h' },
  'client_auth.failed': { level: 'info', message: 'client authentication failed' },
  'client_auth.throttled': { level: 'warn', message: 'client authentication refused: too many failures' },
  'client_auth.subject_under_attack': { level: 'warn', message: 'many failures for one subject from anywhere in 24 h' },
  'browser_session.started': { level: 'info', message: 'browser session started' },
  'browser_session.ended': { level: 'info', message: (p) => (p.reason === 'logout' ? 'browser session ended by logout' : 'browser session ended: its user may no longer sign in') },
  'keys.reloaded': { level: 'info', message: 'signing keys reloaded' },
  'keys.reload_failed': { level: 'error', message: 'new signing keys refused; the previous set stays in force' },
  'account.updated': { level: 'info', message: 'profile updated' },
  'account.password_changed': { level: 'info', message: 'password changed by its user' },
  'account.session_revoked': { level: 'info', message: 'session ended by its user' },
  'account.sessions_revoked': { level: 'info', message: 'every session ended by its user' },
  'account.consent_revoked': { level: 'info', message: 'consent withdrawn by its user' },
  'admin.action': { level: 'info', message: (p) => `admin.${p.action}` },
  'admin.refused': { level: 'warn', message: 'admin API call refused: not allowed for this caller' },
};
