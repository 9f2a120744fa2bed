import type { NewClient } from './clients';

// What the audit trail records of a client's settings (README "Audit trail"): every setting that
// gives a client power (grant types, audiences, CORS origins, introspection, redirect URIs) and
// the rest that shape its tokens, so a reader of the trail alone sees what a new or changed
// client may do. Never a secret: secrets are not settings (they are recorded by id elsewhere).

/** A client's settings as the admin API, the CLI and a clients file all hold them: a new
 *  client's fields (clients.ts NewClient), all given, without its id and secret. */
export type AuditedSettings = Required<Omit<NewClient, 'id' | 'secret' | 'name'>> & { readonly name?: string | undefined };

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
