import type { Client, NewClient } from './clients';
import { redirectUriListProblems } from './redirect-uris';

/** A client's own refresh-token lifetime: at least a minute, at most a leap year (seconds). */
export const MIN_CLIENT_REFRESH_TTL_SEC = 60;
export const MAX_CLIENT_REFRESH_TTL_SEC = 366 * 86400;

export type SignInSettings = Pick<NewClient, 'grantTypes' | 'corsOrigins' | 'redirectUris' | 'postLogoutRedirectUris' | 'refreshTokenTtlSec' | 'refreshIdleTtlSec' | 'refreshTokenInCookie'>;

/** What is wrong with a client's settings for the code flow, logout and its refresh tokens. */
export function signInSettingsProblems(input: SignInSettings): string[] {
  const problems = [...redirectUriListProblems('redirect URIs', input.redirectUris ?? []), ...redirectUriListProblems('post-logout redirect URIs', input.postLogoutRedirectUris ?? [])];
  // RFC 6749 §3.1.2.2: a client of the code flow registers where its codes may go; the
  // authorization endpoint never takes an unregistered redirect_uri.
  if (input.grantTypes.includes('authorization_code') && (input.redirectUris ?? []).length === 0) problems.push('a client with the authorization_code grant needs at least one redirect URI');
  if (input.refreshTokenInCookie && !input.grantTypes.includes('refresh_token')) problems.push('a refresh-token cookie needs the refresh_token grant');
  // The token endpoint uses the cookie only for a request from one of the client's origins.
  if (input.refreshTokenInCookie && (input.corsOrigins ?? []).length === 0) problems.push('a refresh-token cookie needs the origin of the app that uses it (corsOrigins, --origins)');
  const absolute = input.refreshTokenTtlSec ?? null;
  const idle = input.refreshIdleTtlSec ?? null;
  for (const [name, ttl] of [['refresh token lifetime', absolute], ['refresh idle lifetime', idle]] as const) {
    if (ttl !== null && (!Number.isSafeInteger(ttl) || ttl < MIN_CLIENT_REFRESH_TTL_SEC || ttl > MAX_CLIENT_REFRESH_TTL_SEC)) {
      problems.push(`the ${name} must be whole seconds from ${MIN_CLIENT_REFRESH_TTL_SEC} (1 minute) to ${MAX_CLIENT_REFRESH_TTL_SEC} (366 days)`);
    }
  }
  if (absolute !== null && idle !== null && idle > absolute) problems.push('the refresh idle lifetime cannot be longer than the refresh token lifetime');
  return problems;
}

/**
 * A third-party client: its users are asked for consent, and its tokens reach the user's account
 * only through what they approved (http/middleware/bearer-auth.ts thirdPartyAccountScope).
 */
export function isThirdParty(client: Pick<Client, 'requireConsent'>): boolean {
  return client.requireConsent;
}

/**
 * Where a client's own pages live: its CORS origins and the origins of its registered redirect
 * and post-logout URIs. A browser request from one of them is the app asking (logout).
 */
export function appOrigins(client: Pick<Client, 'corsOrigins' | 'redirectUris' | 'postLogoutRedirectUris'>): Set<string> {
  const origins = new Set(client.corsOrigins);
  for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
    } catch {
      // registered URIs are validated; a private-use scheme has no web origin
    }
  }
  return origins;
}
