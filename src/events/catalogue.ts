/**
 * The event catalogue: every security-relevant fact the service emits on `deps.events`, one
 * typed payload per name. A fact is emitted once, where it happens; the log, the audit trail and
 * the metrics subscribe (README "Audit events" lists when each fires). Names are the log's
 * `event` names; field names are the log line's, so a subscriber can write a payload as it is.
 *
 * Payloads never carry a secret, a token, a password or a hash (the audit file redacts the
 * logger's secret field names all the same).
 */

/** What made the service reload its signing keys: a SIGHUP, or SIGNING_KEYS_FILE changing. */
export type KeyReloadTrigger = 'sighup' | 'keys_file';

/** Where a fact came from: present when the emitting code knows it. */
export interface Origin {
  /** The client's address (the request's `ctx.ip`, after TRUST_PROXY). */
  readonly ip?: string | undefined;
  /** The request id (X-Request-Id), as `reqId` on log lines. */
  readonly requestId?: string | undefined;
}

/** The grants that issue an access token on their own (refresh is `token.refreshed`). */
export type IssuingGrant = 'authorization_code' | 'client_credentials' | 'password';

/** Why a refresh token was refused (the store's rotation outcomes and the grant's own checks). */
export type RefreshRefusal = string;

export interface AdminActionPayload extends Origin {
  /** Who: the admin token's subject, or `cli:<os user>` for the CLI. */
  readonly actor: string;
  readonly actorUsername?: string | undefined;
  /** The client the admin's token was issued to (absent for the CLI). */
  readonly actorClient?: string | undefined;
  /** What: e.g. `user_created`, `client_secret_rotated`, `clients_applied` (the log line's event is `admin.<action>`). */
  readonly action: AdminAction;
  /** The user or client id acted on. */
  readonly target: string;
  readonly outcome: 'success' | 'failure';
  /** What changed, never a secret or password (a password change is `{ passwordChanged: true }`). */
  readonly changes?: Readonly<Record<string, unknown>> | undefined;
  /** `api` (the admin API), `cli`, or `clients_file` (the service applying CLIENTS_FILE, actor `service:clients_file`). */
  readonly via: 'api' | 'cli' | 'clients_file';
}

export interface AdminRefusalPayload extends Origin {
  readonly actor: string;
  readonly actorUsername?: string | undefined;
  readonly actorClient: string;
  /** The method and route template tried, e.g. `POST /admin/users/:id/password`. */
  readonly operation: string;
  /** The user or client id in the path, when there is one (`sha256:` and a hash when it does not look like an id). */
  readonly target?: string | undefined;
  /** The error code answered: insufficient_scope, forbidden_grant, forbidden_target, managed_client. */
  readonly reason: string;
  /** Refusals of the same actor, operation and reason held back since the previous line (one a minute). */
  readonly suppressed?: number | undefined;
}

export type AdminAction =
  | 'user_created'
  | 'user_updated'
  | 'user_disabled'
  | 'user_enabled'
  | 'user_password_set'
  | 'user_deleted'
  | 'session_revoked'
  | 'sessions_revoked'
  | 'client_created'
  | 'client_updated'
  | 'client_secret_rotated'
  | 'client_secret_removed'
  | 'client_deleted'
  | 'role_created'
  | 'role_updated'
  | 'role_deleted'
  | 'clients_applied';

export interface EventMap {
  // Tokens
  'token.issued': Origin & { grant: IssuingGrant; userId?: string | undefined; clientId: string; secretId?: string | undefined; jti: string; familyId?: string | undefined; scope: string };
  /** The refresh_token grant: the family rotated and an access token issued. */
  'token.refreshed': Origin & { userId: string; clientId: string; secretId?: string | undefined; familyId: string; jti: string; scope: string };
  'token.revoked': Origin & { kind: 'refresh_token' | 'access_token'; clientId: string; familyId?: string | undefined; jti?: string | undefined };
  'refresh.replayed': Origin & { familyId: string; clientId: string; userId: string };
  'refresh.reuse_detected': Origin & { familyId: string; clientId: string; userId: string; generation: number };
  'refresh.refused': Origin & { reason: RefreshRefusal; familyId: string; clientId: string; userId?: string | undefined };
  /** A refresh-token family ended by the service itself because of a detected attack. */
  'session.evicted': Origin & { userId: string; clientId: string; familyIds: readonly string[] };
  'code.issued': Origin & { userId: string; clientId: string; scope: string };
  'code.refused': Origin & { reason: string; clientId: string; userId?: string | undefined };
  'code.replayed': Origin & { userId: string; clientId: string; codeClientId?: string | undefined; familyId?: string | undefined };
  'consent.granted': Origin & { userId: string; clientId: string; scope: string };
  /** RFC 7662: one per answered introspection (logged at debug: it is the hot path). */
  'introspection.answered': Origin & { active: boolean; clientId: string; secretId?: string | undefined; tokenType?: 'access_token' | 'refresh_token' | undefined };

  // Credentials
  'login.succeeded': Origin & { via: 'login_page'; userId: string; clientId: string };
  'login.failed': Origin & CredentialFields & FailureCounts;
  'login.throttled': Origin & CredentialFields & { reason: string; retryAfterSec: number };
  'login.disabled': Origin & { userId: string; clientId: string };
  'login.subject_under_attack': Origin & CredentialFields & { subjectFailures: number };
  'client_auth.failed': Origin & { clientId: string } & FailureCounts;
  'client_auth.throttled': Origin & { clientId: string; retryAfterSec: number };
  'client_auth.subject_under_attack': Origin & { clientId: string; subjectFailures: number };

  // Browser sign-in (issue 14)
  'browser_session.started': Origin & { userId: string; renewed: boolean };
  /** Ended by logout (`reason: 'logout'`, with the families it ended) or because its user may no longer sign in. */
  'browser_session.ended': Origin & { reason: string; userId: string; familyIds?: readonly string[] | undefined };

  // Keys
  /** `actor`: `service:sighup` or `service:keys_file`, after `trigger`. */
  'keys.reloaded': { actor: string; trigger: KeyReloadTrigger; source: string; active: string; kids: readonly string[] };
  'keys.reload_failed': { actor: string; trigger: KeyReloadTrigger; reason: string; active: string };

  // People acting on their own account (the account API)
  'account.updated': Origin & { actor: string; target: string; changed: readonly string[] };
  'account.password_changed': Origin & { actor: string; target: string; keptSession: boolean };
  'account.session_revoked': Origin & { actor: string; target: string; sessionId: string };
  'account.sessions_revoked': Origin & { actor: string; target: string; revoked: number };
  'account.consent_revoked': Origin & { actor: string; target: string; clientId: string; sessionsEnded: number };

  // Administration (admin API, CLI, CLIENTS_FILE)
  'admin.action': AdminActionPayload;
  /** An admin API call refused: a missing scope, a grant or target beyond the caller's rights, or a client a clients file manages. */
  'admin.refused': AdminRefusalPayload;
}

export type EventName = keyof EventMap;

/** The identity of the user or client a credential check was about; a mistyped username that
 *  is not a valid username is logged by hash only. */
export interface CredentialFields {
  readonly username?: string | undefined;
  readonly usernameHash?: string | undefined;
  readonly clientId?: string | undefined;
}

/** Throttle counts at the failure, when throttling is on. */
export interface FailureCounts {
  readonly pairFailures?: number | undefined;
  readonly addressRemaining?: number | undefined;
  readonly subjectFailures?: number | undefined;
}

/** One emitted event as `onAny` listeners see it. */
export type AnyEvent = { [K in EventName]: { readonly name: K; readonly payload: EventMap[K] } }[EventName];
