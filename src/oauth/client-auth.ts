import { hashClientSecret, verifyClientSecret } from '../identity/client-secrets';
import type { ClientWithSecret } from '../identity/clients';
import { OAuthError } from './errors';
import type { OAuthParams } from './params';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** Finds a client by id: the service's short-lived cache (CLIENT_CACHE_TTL), or the database. */
export type ClientLookup = (id: string) => Promise<ClientWithSecret | undefined>;

/** Throttling of failed client authentication (identity/credential-throttle.ts implements it). */
export interface ClientAuthGuard {
  /** Throws (429) while this client id from this address is refused; no I/O on the hot path. */
  check(clientId: string, address: string | undefined): void;
  /** Records a failure. */
  failed(clientId: string, address: string | undefined): Promise<void>;
}

export interface ClientAuthThrottling {
  readonly guard: ClientAuthGuard;
  readonly address: string | undefined;
}

export interface AuthenticatedClient {
  readonly client: ClientWithSecret;
  readonly method: ClientAuthMethod;
}

// Compared against when the client id is unknown, so both paths do the same work.
const DUMMY_HASH = hashClientSecret('dummy-secret-for-unknown-clients-000000');

interface Credentials {
  readonly id: string;
  readonly secret: string | undefined;
  readonly method: ClientAuthMethod;
}

function basicCredentials(header: string): Credentials {
  const encoded = header.slice(6).trim();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || !/^[A-Za-z0-9+/]+=*$/.test(encoded)) {
    throw new OAuthError('invalid_client', 'malformed Basic credentials', { wwwAuthenticate: 'Basic realm="portcullis"' });
  }
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
      method: 'client_secret_basic',
    };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials', { wwwAuthenticate: 'Basic realm="portcullis"' });
  }
}

/**
 * RFC 6749 §2.3: confidential clients authenticate with client_secret_basic or
 * client_secret_post (never both at once); public clients identify themselves with client_id.
 * Every failure is the same 401 invalid_client, with a Basic challenge when Basic was tried.
 */
export async function authenticateClient(lookup: ClientLookup, authorization: string | undefined, params: OAuthParams, throttling?: ClientAuthThrottling): Promise<AuthenticatedClient> {
  const usesBasic = authorization !== undefined && /^basic /i.test(authorization);
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  if (usesBasic && postSecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not both');

  let credentials: Credentials;
  if (usesBasic) {
    credentials = basicCredentials(authorization);
    if (postId !== undefined && postId !== credentials.id) throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');
  } else if (postId !== undefined) {
    credentials = { id: postId, secret: postSecret, method: postSecret === undefined ? 'none' : 'client_secret_post' };
  } else {
    throw new OAuthError('invalid_client', 'client authentication is required');
  }

  throttling?.guard.check(credentials.id, throttling.address);
  // Every failure is counted (per client id and address, and per address), then answered alike.
  const failure = async (): Promise<never> => {
    await throttling?.guard.failed(credentials.id, throttling.address);
    throw new OAuthError('invalid_client', 'client authentication failed', usesBasic ? { wwwAuthenticate: 'Basic realm="portcullis"' } : {});
  };
  const client = await lookup(credentials.id);
  if (!client) {
    if (credentials.secret !== undefined) verifyClientSecret(credentials.secret, DUMMY_HASH);
    return failure();
  }
  if (client.type === 'public') {
    // A public client has no secret; one that sends a secret is misconfigured, not authenticated.
    if (credentials.secret !== undefined) return failure();
    return { client, method: 'none' };
  }
  if (credentials.secret === undefined || !client.secretHash || !verifyClientSecret(credentials.secret, client.secretHash)) return failure();
  return { client, method: credentials.method };
}
