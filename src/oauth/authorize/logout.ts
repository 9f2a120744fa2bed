import type { Client } from '../../identity/clients';
import type { ClientLookup } from '../client-auth';
import { singleParam, UnsafeRedirectError, type RawParams } from './request';

// OpenID Connect RP-Initiated Logout 1.0, without ID tokens (this server issues none): the app
// names itself with client_id; post_logout_redirect_uri must be one the client registered,
// character for character, or nobody is redirected anywhere.

export interface LogoutRequest {
  readonly client: Client | undefined;
  readonly postLogoutRedirectUri: string | undefined;
  readonly state: string | undefined;
  /** The request's own parameters, as the confirmation form carries them and its CSRF token covers them. */
  readonly canonical: string;
}

/** The logout request's parameters (a GET's query, a POST's form); a repeated, NUL or oversize value is a 400 page. */
export async function parseLogoutRequest(params: RawParams, findClient: ClientLookup): Promise<LogoutRequest> {
  const get = (name: string) => singleParam(params, name, (description) => new UnsafeRedirectError(description));
  const clientId = get('client_id');
  const postLogoutRedirectUri = get('post_logout_redirect_uri');
  const state = get('state');
  let client: Client | undefined;
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

/** The registered URI with `state`, or undefined when the app named none (a signed-out page then). */
export function logoutLocation(request: LogoutRequest): string | undefined {
  if (request.postLogoutRedirectUri === undefined) return undefined;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.append('state', request.state);
  return url.href;
}
