import type { ClientWithSecret } from '../../identity/clients';
import type { ClientLookup } from '../client-auth';
import { UnsafeRedirectError } from './request';

// OpenID Connect RP-Initiated Logout 1.0, without ID tokens (this server issues none): the app
// names itself with client_id; post_logout_redirect_uri must be one the client registered,
// character for character, or nobody is redirected anywhere.

export interface LogoutRequest {
  readonly client: ClientWithSecret | undefined;
  readonly postLogoutRedirectUri: string | undefined;
  readonly state: string | undefined;
  /** The request's own parameters, as the confirmation form carries them and its CSRF token covers them. */
  readonly canonical: string;
}

/** One value per name, from a query or a form; a repeat, NUL or oversize value refuses the request. */
export type LogoutParams = (name: string) => string | undefined;

export async function parseLogoutRequest(get: LogoutParams, findClient: ClientLookup): Promise<LogoutRequest> {
  const clientId = get('client_id');
  const postLogoutRedirectUri = get('post_logout_redirect_uri');
  const state = get('state');
  let client: ClientWithSecret | undefined;
  if (clientId !== undefined) {
    client = await findClient(clientId);
    if (!client) throw new UnsafeRedirectError('the client is unknown');
  }
  if (postLogoutRedirectUri !== undefined) {
    if (!client) throw new UnsafeRedirectError('a post_logout_redirect_uri needs the client_id it is registered for');
    if (!client.postLogoutRedirectUris.includes(postLogoutRedirectUri)) throw new UnsafeRedirectError('the post_logout_redirect_uri is not registered for this client');
  }
  const canonical = new URLSearchParams(
    Object.entries({ client_id: clientId, post_logout_redirect_uri: postLogoutRedirectUri, state }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  ).toString();
  return { client, postLogoutRedirectUri, state, canonical };
}

/** Where the app's own pages live: a POST from one of them is the app asking, not a cross-site link. */
export function clientOrigins(client: ClientWithSecret): Set<string> {
  const origins = new Set(client.corsOrigins);
  for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
    } catch {
      // registered URIs are validated; nothing to add
    }
  }
  return origins;
}

/** The registered URI with `state`, or undefined when the app named none (a signed-out page then). */
export function logoutLocation(request: LogoutRequest): string | undefined {
  if (request.postLogoutRedirectUri === undefined) return undefined;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.append('state', request.state);
  return url.href;
}
