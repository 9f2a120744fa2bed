import type { ClientSecretInfo } from './client-secret-records';
import type { RotatedSecret } from './client-secret-store';
import type { Client } from './clients';
import type { Consent } from './consents';
import type { User } from './users';

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

/** A client secret as the admin API and the CLI show it: never the secret or its hash. */
export function secretView(secret: ClientSecretInfo) {
  return {
    id: secret.id,
    createdAt: secret.createdAt.toISOString(),
    notAfter: secret.notAfter?.toISOString() ?? null,
    lastUsedAt: secret.lastUsedAt?.toISOString() ?? null,
  };
}

/** A rotation's answer (admin API and `client rotate-secret --json`): the new secret, this once. */
export function rotationView(clientId: string, rotated: RotatedSecret) {
  return { clientId, secretId: rotated.id, secret: rotated.secret, oldSecretExpiresAt: rotated.oldSecretExpiresAt?.toISOString() ?? null };
}

/** A client as the admin API shows it, with its secrets' ids and times: never a secret or a hash. */
export function clientView(client: Client, secrets: readonly ClientSecretInfo[]) {
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
    secrets: secrets.map(secretView),
  };
}

/** A consent as its user sees it. */
export function consentView(consent: Consent) {
  return { clientId: consent.clientId, clientName: consent.clientName, scopes: consent.scopes, grantedAt: consent.grantedAt.toISOString() };
}
