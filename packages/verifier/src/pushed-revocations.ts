import type { JWTPayload } from 'jose';
import { RevocationFeedSubscription } from './revocation-feed.js';
import type { AuthInfo, IntrospectModeOptions, JwksModeOptions, TokenVerifier } from './types.js';

// jwks mode with `revocations: 'push'`: a locally verified token is also checked against the
// deny-set the revocation feed keeps. While the feed is fresh that is a few map lookups, no
// network; once it has been down past the bound, the option decides: 503 or introspection.

export class RevocationFeedStaleError extends Error {
  constructor() {
    super('the revocation feed has been down longer than maxStalenessMs');
    this.name = 'RevocationFeedStaleError';
  }
}

export interface PushedRevocations {
  check(token: string, claims: JWTPayload, auth: AuthInfo): Promise<AuthInfo | undefined>;
  close(): void;
}

const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** Undefined without `revocations: 'push'`; throws at start-up when its credentials are missing. */
export function pushedRevocations(options: JwksModeOptions, introspector: (options: IntrospectModeOptions) => TokenVerifier): PushedRevocations | undefined {
  if (options.revocations === undefined) return undefined;
  if (options.revocations !== 'push') throw new TypeError(`createVerifier: revocations must be 'push' (got ${String(options.revocations)})`);
  const { clientId, clientSecret } = options;
  if (!clientId || !clientSecret) throw new TypeError("createVerifier: revocations: 'push' needs clientId and clientSecret (a client allowed to introspect)");
  const feed = new RevocationFeedSubscription({
    url: options.revocationFeedUrl ?? `${options.issuer}/oauth/revocations`,
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
    authorization: `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`,
    maxStalenessMs: options.maxStalenessMs ?? 30_000,
    maxEntries: options.maxRevocations ?? 100_000,
    backoffMs: options.reconnectBackoffMs ?? 500,
    maxBackoffMs: options.maxReconnectBackoffMs ?? 30_000,
    idleTimeoutMs: 45_000,
  });
  const fallback =
    options.whenStale === 'introspect'
      ? introspector({ mode: 'introspect', issuer: options.issuer, audience: options.audience, clientId, clientSecret, ...(options.introspectionEndpoint !== undefined && { introspectionEndpoint: options.introspectionEndpoint }) })
      : undefined;
  return {
    async check(token, claims, auth) {
      if (!feed.fresh()) {
        // Thrown, it becomes the existing 503 temporarily_unavailable refusal (request-verifier.ts).
        if (!fallback) throw new RevocationFeedStaleError();
        return fallback.verify(token);
      }
      const { jti, sub, iat, sid, client_id: client } = claims;
      const revocable = { jti: String(jti), sub: String(sub), client_id: String(client), iat: Number(iat), sid: typeof sid === 'string' ? sid : undefined };
      return feed.deny.denies(revocable, Math.floor(Date.now() / 1000)) ? undefined : auth;
    },
    close: () => feed.close(),
  };
}
