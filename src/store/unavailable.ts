/**
 * The token store could not answer (Redis unreachable, closing, or refusing for now). Whatever
 * needed the answer — is this token revoked, does this refresh token still work — cannot be
 * decided, so the request fails closed: 503 with Retry-After, never an "active" guess and never
 * a 401 that tells a gateway the token is bad (RFC 7009 §2.2.1 names 503 for exactly this).
 */
export class StoreUnavailableError extends Error {
  /** Seconds a client should wait (Retry-After, RFC 9110 §10.2.3). The Redis client retries
   *  its connection every second at most, so a short wait is enough to see the recovery. */
  readonly retryAfterSec = 2;

  constructor(
    /** The store method that failed, for the log line. */
    readonly operation: string,
    /** The backend's own message (hosts and ports, never keys or arguments): log only. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`token store unavailable during ${operation}: ${reason}`, options);
    this.name = 'StoreUnavailableError';
  }
}
