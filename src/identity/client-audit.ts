// What the audit trail records of a client's settings (README "Audit trail"): every setting that
// gives a client power (grant types, audiences, CORS origins, introspection, redirect URIs) and
// the rest that shape its tokens, so a reader of the trail alone sees what a new or changed
// client may do. Never a secret: secrets are not settings (they are recorded by id elsewhere).

/** A client's settings as the admin API, the CLI and a clients file all hold them. */
export interface AuditedSettings {
  readonly name?: string | undefined;
  readonly type: string;
  readonly grantTypes: readonly string[];
  readonly scopes: readonly string[];
  readonly defaultScopes: readonly string[];
  readonly audiences: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly canIntrospect: boolean;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly requireConsent: boolean;
  readonly refreshTokenTtlSec: number | null;
  readonly refreshIdleTtlSec: number | null;
  readonly refreshTokenInCookie: boolean;
}

/** A created client's settings for its `client_created` (or `clients_applied`) audit line. */
export function clientSettingsForAudit(client: AuditedSettings): Record<string, unknown> {
  return {
    ...(client.name === undefined ? {} : { name: client.name }),
    type: client.type,
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    defaultScopes: client.defaultScopes,
    audiences: client.audiences,
    corsOrigins: client.corsOrigins,
    canIntrospect: client.canIntrospect,
    redirectUris: client.redirectUris,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    requireConsent: client.requireConsent,
    refreshTokenTtlSec: client.refreshTokenTtlSec,
    refreshIdleTtlSec: client.refreshIdleTtlSec,
    refreshTokenInCookie: client.refreshTokenInCookie,
  };
}

/** Of a changed client, the new values of the settings that changed (names from ClientChange.fields). */
export function changedSettingsForAudit(client: AuditedSettings, fields: readonly string[]): Record<string, unknown> {
  const all = clientSettingsForAudit(client);
  return Object.fromEntries(fields.filter((field) => field in all).map((field) => [field, all[field]]));
}
