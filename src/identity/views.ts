import { z } from 'zod';
import type { ClientSecretInfo } from './client-secret-records';
import type { RotatedSecret } from './client-secret-store';
import { GRANT_TYPES, type Client } from './clients';
import type { Consent } from './consents';
import type { User } from './users';

// Each view has one schema: the view's return type is the schema's output type, so the two
// cannot disagree, and the OpenAPI document describes the answers from these schemas.

const timestamp = z.iso.datetime();

export const userViewSchema = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string().nullable(),
    fullName: z.string().nullable(),
    disabled: z.boolean(),
    roles: z.array(z.string()),
    scopes: z.array(z.string()),
    createdAt: timestamp,
    updatedAt: timestamp,
    passwordChangedAt: timestamp,
  })
  .meta({ id: 'User', description: 'A user as the account and admin APIs show it: never the password hash.' });

/** A user as the account and admin APIs show it: never the password hash. */
export function userView(user: User): z.output<typeof userViewSchema> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    fullName: user.fullName,
    disabled: user.disabled,
    roles: [...user.roles],
    scopes: [...user.scopes],
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    passwordChangedAt: user.passwordChangedAt.toISOString(),
  };
}

export const secretViewSchema = z
  .object({ id: z.string(), createdAt: timestamp, notAfter: timestamp.nullable(), lastUsedAt: timestamp.nullable() })
  .meta({ id: 'ClientSecretInfo', description: 'A client secret: its id and times, never the secret or its hash.' });

/** A client secret as the admin API and the CLI show it: never the secret or its hash. */
export function secretView(secret: ClientSecretInfo): z.output<typeof secretViewSchema> {
  return {
    id: secret.id,
    createdAt: secret.createdAt.toISOString(),
    notAfter: secret.notAfter?.toISOString() ?? null,
    lastUsedAt: secret.lastUsedAt?.toISOString() ?? null,
  };
}

export const rotationViewSchema = z
  .object({ clientId: z.string(), secretId: z.string(), secret: z.string(), oldSecretExpiresAt: timestamp.nullable() })
  .meta({ id: 'SecretRotation', description: 'A new client secret, shown this once; the others end at oldSecretExpiresAt.' });

/** A rotation's answer (admin API and `client rotate-secret --json`): the new secret, this once. */
export function rotationView(clientId: string, rotated: RotatedSecret): z.output<typeof rotationViewSchema> {
  return { clientId, secretId: rotated.id, secret: rotated.secret, oldSecretExpiresAt: rotated.oldSecretExpiresAt?.toISOString() ?? null };
}

export const clientViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['confidential', 'public']),
    grantTypes: z.array(z.enum(GRANT_TYPES)),
    scopes: z.array(z.string()),
    defaultScopes: z.array(z.string()),
    audiences: z.array(z.string()),
    corsOrigins: z.array(z.string()),
    canIntrospect: z.boolean(),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    requireConsent: z.boolean(),
    refreshTokenTtlSec: z.number().int().nullable(),
    refreshIdleTtlSec: z.number().int().nullable(),
    refreshTokenInCookie: z.boolean(),
    createdAt: timestamp,
    secretRotatedAt: timestamp.nullable(),
    secrets: z.array(secretViewSchema),
  })
  .meta({ id: 'Client', description: 'A client as the admin API shows it, with its secrets\' ids and times: never a secret or a hash.' });

/** A client as the admin API shows it, with its secrets' ids and times: never a secret or a hash. */
export function clientView(client: Client, secrets: readonly ClientSecretInfo[]): z.output<typeof clientViewSchema> {
  return {
    id: client.id,
    name: client.name,
    type: client.type,
    grantTypes: [...client.grantTypes],
    scopes: [...client.scopes],
    defaultScopes: [...client.defaultScopes],
    audiences: [...client.audiences],
    corsOrigins: [...client.corsOrigins],
    canIntrospect: client.canIntrospect,
    redirectUris: [...client.redirectUris],
    postLogoutRedirectUris: [...client.postLogoutRedirectUris],
    requireConsent: client.requireConsent,
    refreshTokenTtlSec: client.refreshTokenTtlSec,
    refreshIdleTtlSec: client.refreshIdleTtlSec,
    refreshTokenInCookie: client.refreshTokenInCookie,
    createdAt: client.createdAt.toISOString(),
    secretRotatedAt: client.secretRotatedAt?.toISOString() ?? null,
    secrets: secrets.map(secretView),
  };
}

export const consentViewSchema = z
  .object({ clientId: z.string(), clientName: z.string(), scopes: z.array(z.string()), grantedAt: timestamp })
  .meta({ id: 'Consent', description: 'A client the user allowed, and what it may do.' });

/** A consent as its user sees it. */
export function consentView(consent: Consent): z.output<typeof consentViewSchema> {
  return { clientId: consent.clientId, clientName: consent.clientName, scopes: [...consent.scopes], grantedAt: consent.grantedAt.toISOString() };
}

export const sessionViewSchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    scope: z.array(z.string()),
    createdAt: timestamp,
    lastUsedAt: timestamp,
    expiresAt: timestamp,
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
  })
  .meta({ id: 'Session', description: 'A sign-in (refresh-token family): the client, its scope and its times; never a token.' });
