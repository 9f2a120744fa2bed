import type { SubjectType } from './subject-type.js';

/** Who a verified request is from (Koa: `ctx.state.auth`; Express, Fastify: `req.auth`). */
export interface AuthInfo {
  /** The user id, or the client id for a client's own token (client_credentials). */
  readonly sub: string;
  /** Whom the token acts for: a signed-in user, or a client on its own behalf. */
  readonly subjectType: SubjectType;
  readonly username: string | undefined;
  readonly scopes: readonly string[];
  readonly clientId: string;
  /** Every claim (jwks mode) or introspection member (introspect mode). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies one bearer token; undefined means "not a valid token". Throws when it cannot tell. */
export interface TokenVerifier {
  verify(token: string): Promise<AuthInfo | undefined>;
  /** Stops background work (the revocation feed's subscription); the verifier refuses afterwards only if it needs it. */
  close?(): void;
}

interface CommonOptions {
  /** The authorization server's ISSUER (tokens must carry it as `iss`). */
  readonly issuer: string;
  /**
   * This service's identifier (the `resource` clients ask tokens for, RFC 8707): tokens must name
   * it in `aud`, exactly. Required, so a token issued for another service is never accepted here
   * (RFC 9068 §4, RFC 7519 §4.1.3).
   */
  readonly audience: string;
  /** The realm in WWW-Authenticate challenges. */
  readonly realm?: string;
}

export interface JwksModeOptions extends CommonOptions {
  readonly mode: 'jwks';
  /** Default: `${issuer}/.well-known/jwks.json`. */
  readonly jwksUri?: string;
  /** Clock tolerance for `exp`/`nbf`/`iat`, in seconds (default 5). */
  readonly clockToleranceSec?: number;
  /** Minimum time between two JWKS fetches for unknown `kid`s, in ms (default 30 000). */
  readonly cooldownMs?: number;
  /**
   * How long a fetched JWKS is used before it is fetched again, in ms (default 300 000: the
   * service's default JWKS_MAX_AGE). At most the service's JWKS_MAX_AGE, so a `next` key is
   * known here before it signs, with no refetch on an unknown `kid`.
   */
  readonly jwksMaxAgeMs?: number;
  /**
   * `'push'`: subscribe to the server's revocation feed (GET /oauth/revocations) and refuse
   * revoked tokens locally. Needs `clientId` and `clientSecret` of a client allowed to introspect.
   * Without it, jwks mode cannot see revocations: a token stays valid until its `exp`.
   */
  readonly revocations?: 'push';
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Default: `${issuer}/oauth/revocations`. */
  readonly revocationFeedUrl?: string;
  /** How long the feed may be down before `whenStale` applies, in ms (default 30 000). */
  readonly maxStalenessMs?: number;
  /**
   * When the feed has been down longer than `maxStalenessMs` (or has not replayed yet):
   * `'fail-closed'` (the default) answers 503 temporarily_unavailable; `'introspect'` asks the
   * introspection endpoint (`introspectionEndpoint`, default `${issuer}/oauth/introspect`).
   */
  readonly whenStale?: 'fail-closed' | 'introspect';
  readonly introspectionEndpoint?: string;
  /** The deny-set's bound (default 100 000 entries); beyond it, the feed counts as stale. */
  readonly maxRevocations?: number;
  /** Reconnect back-off: first delay and cap in ms (defaults 500 and 30 000), full jitter. */
  readonly reconnectBackoffMs?: number;
  readonly maxReconnectBackoffMs?: number;
}

export interface IntrospectModeOptions extends CommonOptions {
  readonly mode: 'introspect';
  /** Default: `${issuer}/oauth/introspect`. */
  readonly introspectionEndpoint?: string;
  /** A confidential client of the authorization server allowed to introspect. */
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * How long an *active* answer is reused, in seconds, never past the token's `exp`. A revoked
   * token is accepted here for at most this long; 0 (the default) asks on every request.
   * Concurrent requests with one token share one call whatever this is.
   */
  readonly cacheTtlSec?: number;
  readonly cacheMax?: number;
  /** Per-call timeout in ms (default 2000). */
  readonly timeoutMs?: number;
}

export type VerifierOptions = JwksModeOptions | IntrospectModeOptions;
