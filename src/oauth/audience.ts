import type { Client } from '../identity/clients';
import { OAuthError } from './errors';

/**
 * RFC 8707: the `resource` parameter names the audience of the token; it must be one the client
 * is allowed. Without one, the configured default audience.
 */
export function pickAudience(resource: string | undefined, client: Client, defaultAudience: string): string {
  if (resource === undefined) return defaultAudience;
  if (resource.includes(' ')) throw new OAuthError('invalid_target', 'one resource per token request is supported');
  // RFC 8707 §2: an absolute URI without a fragment.
  let url: URL | undefined;
  try {
    url = new URL(resource);
  } catch {
    url = undefined;
  }
  if (!url || url.hash !== '') throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment');
  if (!client.audiences.includes(resource)) throw new OAuthError('invalid_target', 'resource not allowed for this client');
  return resource;
}
