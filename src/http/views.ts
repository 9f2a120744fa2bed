import type { Client } from '../identity/clients';
import type { Consent } from '../identity/consents';
import type { User } from '../identity/users';

/** A user as the account and admin APIs show it: never the password hash. */
export function userView(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    fullName: user.fullName,
    disabled: user.disabled,
    roles: user.roles,
    scopes: user.scopes,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    passwordChangedAt: user.passwordChangedAt.toISOString(),
  };
}

/** A client as the admin API shows it: never the secret or its hash. */
export function clientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
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
    createdAt: client.createdAt.toISOString(),
    secretRotatedAt: client.secretRotatedAt?.toISOString() ?? null,
  };
}

/** A consent as its user sees it. */
export function consentView(consent: Consent) {
  return { clientId: consent.clientId, clientName: consent.clientName, scopes: consent.scopes, grantedAt: consent.grantedAt.toISOString() };
}
