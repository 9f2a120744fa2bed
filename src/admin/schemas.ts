import { z } from 'zod';
import { email, fullName } from '../account/schemas';
import { parseDuration } from '../config/duration';
import { MAX_SECRET_OVERLAP_SEC } from '../identity/client-secret-records';
import { MAX_CLIENT_REFRESH_TTL_SEC, MIN_CLIENT_REFRESH_TTL_SEC } from '../identity/client-sign-in';
import { GRANT_TYPES } from '../identity/clients';
import { MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from '../identity/redirect-uris';
import { isValidScope } from '../identity/scopes';

// One schema per request body (and query) of the admin API; `.strict()` refuses unknown fields.

const scope = z.string().refine(isValidScope, 'not a valid scope token (RFC 6749 §3.3)');
const scopes = z.array(scope).max(200);
const roles = z.array(z.string().min(1).max(64)).max(50);

export const listUsersQuery = z
  .object({
    prefix: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const createUserBody = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1, 'required'),
    email: email.optional(),
    fullName: fullName.optional(),
    roles: roles.optional(),
    scopes: scopes.optional(),
  })
  .strict();

export const updateUserBody = z
  .object({ email: email.nullable().optional(), fullName: fullName.nullable().optional(), roles: roles.optional(), scopes: scopes.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });

export const setPasswordBody = z.object({ password: z.string().min(1, 'required') }).strict();

const clientSettings = {
  name: z.string().trim().min(1).max(200),
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1).max(GRANT_TYPES.length),
  scopes,
  defaultScopes: scopes,
  audiences: z.array(z.string().min(1).max(256)).max(50),
  corsOrigins: z.array(z.string().min(1).max(256)).max(50),
  canIntrospect: z.boolean(),
  // Each URI's rules (scheme, loopback, fragment...) are identity/redirect-uris.ts's, with reasons.
  redirectUris: z.array(z.string().min(1).max(MAX_REDIRECT_URI_LENGTH)).max(MAX_REDIRECT_URIS),
  postLogoutRedirectUris: z.array(z.string().min(1).max(MAX_REDIRECT_URI_LENGTH)).max(MAX_REDIRECT_URIS),
  requireConsent: z.boolean(),
  // Seconds; null on update: back to the service's default.
  refreshTokenTtlSec: z.number().int().min(MIN_CLIENT_REFRESH_TTL_SEC).max(MAX_CLIENT_REFRESH_TTL_SEC).nullable(),
  refreshIdleTtlSec: z.number().int().min(MIN_CLIENT_REFRESH_TTL_SEC).max(MAX_CLIENT_REFRESH_TTL_SEC).nullable(),
  refreshTokenInCookie: z.boolean(),
};

const optionalClientSettings = {
  name: clientSettings.name.optional(),
  defaultScopes: clientSettings.defaultScopes.optional(),
  audiences: clientSettings.audiences.optional(),
  corsOrigins: clientSettings.corsOrigins.optional(),
  canIntrospect: clientSettings.canIntrospect.optional(),
  redirectUris: clientSettings.redirectUris.optional(),
  postLogoutRedirectUris: clientSettings.postLogoutRedirectUris.optional(),
  requireConsent: clientSettings.requireConsent.optional(),
  refreshTokenTtlSec: clientSettings.refreshTokenTtlSec.optional(),
  refreshIdleTtlSec: clientSettings.refreshIdleTtlSec.optional(),
  refreshTokenInCookie: clientSettings.refreshTokenInCookie.optional(),
};

export const createClientBody = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 . _ ~ -'),
    type: z.enum(['confidential', 'public']),
    grantTypes: clientSettings.grantTypes,
    scopes: clientSettings.scopes,
    ...optionalClientSettings,
  })
  .strict();

export const updateClientBody = z
  .object({
    grantTypes: clientSettings.grantTypes.optional(),
    scopes: clientSettings.scopes.optional(),
    ...optionalClientSettings,
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });

const overlapSeconds = z.union([
  z.number().int().min(0).max(MAX_SECRET_OVERLAP_SEC),
  z.string().transform((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === undefined || seconds > MAX_SECRET_OVERLAP_SEC) {
      ctx.addIssue({ code: 'custom', message: `a duration from 0 to 366d (seconds, or a number with s, m, h or d: 7d, 12h)` });
      return z.NEVER;
    }
    return seconds;
  }),
]);

/** POST /admin/clients/:id/secrets: how long the client's current secrets keep working (default CLIENT_SECRET_OVERLAP). */
export const rotateSecretBody = z.object({ keepOldFor: overlapSeconds.optional() }).strict();
