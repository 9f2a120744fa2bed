import { isActiveSecret, MAX_ACTIVE_SECRETS } from '../identity/client-secret-records';
import { hashClientSecret, verifyClientSecret } from '../identity/client-secrets';
import type { ClientWithSecret } from '../identity/clients';
import { OAuthError } from './errors';
import { recalledSecret, rememberSecret, secretDigest } from './secret-memo';
import type { OAuthParams } from './params';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** Finds a client by id: the service's short-lived cache (CLIENT_CACHE_TTL), or the database. */
export type ClientLookup = (id: string) => Promise<ClientWithSecret | undefined>;

/** Where authentication finds clients. */
export interface ClientSource {
  readonly find: ClientLookup;
  /**
   * Called when a presented secret matched none of the found record's: the record as the
   * database has it, read at or after `since` (performance.now() before `find`), so a secret
   * added on another instance works at once; the cache bounds how often
   * (oauth/client-cache.ts). Undefined: no fresher record.
   */
  readonly reload?: (id: string, since: number) => Promise<ClientWithSecret | undefined>;
}

/** Throttling of failed client authentication (identity/credential-throttle.ts implements it). */
export interface ClientAuthGuard {
  /** Throws (429) while this client id from this address is refused; no I/O on the hot path. */
  check(clientId: string, address: string | undefined, requestId?: string): void;
  /** Records a failure; `known`: the id names a client (an unknown one may be a secret typed in the wrong field, and is never logged as typed). */
  failed(clientId: string, address: string | undefined, known: boolean, requestId?: string): Promise<void>;
  /** A success: forgives the pair's failures (README: a success resets the count). No I/O unless the pair failed here. */
  succeeded?(clientId: string, address: string | undefined): Promise<void>;
}

export interface ClientAuthThrottling {
  readonly guard: ClientAuthGuard;
  readonly address: string | undefined;
  /** For the events of a refusal or failure. */
  readonly requestId?: string | undefined;
}

export interface AuthenticatedClient {
  readonly client: ClientWithSecret;
  readonly method: ClientAuthMethod;
  /** Which of the client's secrets it presented (logged; never the secret). None for 'none'. */
  readonly secretId: string | undefined;
}

// Compared against in place of secrets the client does not have, so every attempt does the same work.
const DUMMY_HASH = hashClientSecret('dummy-secret-for-unknown-clients-000000');

/**
 * The id of the client's active secret that `secret` is, if any. Constant time over the
 * candidates: every comparison is made (no early exit), and always at least MAX_ACTIVE_SECRETS
 * of them (the dummy for a missing one, and for an unknown client), so the time tells neither
 * whether the client exists, how many secrets it has, nor which one matched.
 */
export function matchClientSecret(secret: string, client: ClientWithSecret | undefined, now: number): string | undefined {
  const candidates = client ? client.secrets.filter((candidate) => isActiveSecret(candidate, now)) : [];
  const rounds = Math.max(candidates.length, MAX_ACTIVE_SECRETS);
  let matched: string | undefined;
  for (let i = 0; i < rounds; i += 1) {
    const candidate = candidates[i];
    const equal = verifyClientSecret(secret, candidate?.hash ?? DUMMY_HASH);
    matched = matched ?? (equal && candidate ? candidate.id : undefined);
  }
  return matched;
}

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

/** Where the uses of secrets are noted (identity/client-secret-uses.ts): in memory, no I/O. */
export interface SecretUses {
  record(secretId: string): void;
}

export interface ClientAuthOptions {
  /** The time (ms) against which secrets' notAfter is checked. */
  readonly now: number;
  readonly throttling?: ClientAuthThrottling | undefined;
  readonly uses?: SecretUses | undefined;
}

/**
 * RFC 6749 §2.3: confidential clients authenticate with client_secret_basic or
 * client_secret_post (never both at once); public clients identify themselves with client_id.
 * Every failure is the same 401 invalid_client, with a Basic challenge when Basic was tried or
 * no credentials came at all.
 * A confidential client may present any of its active secrets (client-secret-store.ts).
 */
export async function authenticateClient(clients: ClientSource, authorization: string | undefined, params: OAuthParams, { now, throttling, uses }: ClientAuthOptions): Promise<AuthenticatedClient> {
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
    // RFC 7235 §3.1: a 401 names the scheme that would do (outside round: introspection and the
    // revocation feed answered a request without credentials with no challenge).
    throw new OAuthError('invalid_client', 'client authentication is required', { wwwAuthenticate: 'Basic realm="portcullis"' });
  }

  throttling?.guard.check(credentials.id, throttling.address, throttling.requestId);
  // Every failure is counted (per client id and address, and per address), then answered alike.
  let known = false;
  const failure = async (): Promise<never> => {
    await throttling?.guard.failed(credentials.id, throttling.address, known, throttling.requestId);
    throw new OAuthError('invalid_client', 'client authentication failed', usesBasic ? { wwwAuthenticate: 'Basic realm="portcullis"' } : {});
  };
  // A secret that matched nothing: perhaps one added (or a client created) since the record was
  // cached, on another instance or by the CLI, so the client is read once more (client-cache.ts
  // bounds how often). Unknown ids take this path too: the time of the answer must not tell
  // which client ids exist.
  // A right secret: the pair's failures are forgiven and the secret's use recorded, alike.
  const success = async (matched: ClientWithSecret, secretId: string): Promise<AuthenticatedClient> => {
    await throttling?.guard.succeeded?.(credentials.id, throttling.address);
    uses?.record(secretId);
    return { client: matched, method: credentials.method, secretId };
  };
  const retryFresh = async (secret: string): Promise<AuthenticatedClient> => {
    const fresh = clients.reload ? await clients.reload(credentials.id, since) : undefined;
    const freshId = fresh?.type === 'confidential' ? matchClientSecret(secret, fresh, now) : undefined;
    known ||= fresh !== undefined;
    if (!fresh || freshId === undefined) return failure();
    return success(fresh, freshId);
  };
  const since = performance.now();
  const client = await clients.find(credentials.id);
  known = client !== undefined;
  if (!client) {
    if (credentials.secret === undefined) return failure();
    matchClientSecret(credentials.secret, undefined, now);
    return retryFresh(credentials.secret);
  }
  if (client.type === 'public') {
    // A public client has no secret; one that sends a secret is misconfigured, not authenticated.
    if (credentials.secret !== undefined) return failure();
    return { client, method: 'none', secretId: undefined };
  }
  if (credentials.secret === undefined) return failure();
  // A secret this record matched before costs one SHA-256 (secret-memo.ts).
  const digest = secretDigest(credentials.secret);
  const recalled = recalledSecret(client, digest, now);
  const secretId = recalled ?? matchClientSecret(credentials.secret, client, now);
  if (secretId !== undefined) {
    if (recalled === undefined) rememberSecret(client, digest, secretId);
    return success(client, secretId);
  }
  return retryFresh(credentials.secret);
}
