import { createHash } from 'node:crypto';
import { audienceIncludes } from './audience.js';
import { authInfoFrom } from './auth-info.js';
import { ExpiringCache } from './expiring-cache.js';
import type { AuthInfo, IntrospectModeOptions, TokenVerifier } from './types.js';

// Verification by asking the authorization server (RFC 7662) on each request, so a revocation
// takes effect at once (or within cacheTtlSec when a positive cache is configured). Concurrent
// requests carrying one token share one call (singleflight).

export class IntrospectionUnavailableError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'IntrospectionUnavailableError';
  }
}

interface Introspection {
  readonly active?: unknown;
  readonly [member: string]: unknown;
}

// Tokens are kept in memory only as hashes: a heap dump of the service leaks no bearer token.
const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

export class IntrospectVerifier implements TokenVerifier {
  private readonly endpoint: string;
  private readonly authorization: string;
  private readonly inFlight = new Map<string, Promise<AuthInfo | undefined>>();
  private readonly cache: ExpiringCache<AuthInfo> | undefined;
  private readonly cacheTtlMs: number;

  constructor(private readonly options: IntrospectModeOptions) {
    this.endpoint = options.introspectionEndpoint ?? `${options.issuer}/oauth/introspect`;
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
    const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
    this.authorization = `Basic ${Buffer.from(`${encode(options.clientId)}:${encode(options.clientSecret)}`).toString('base64')}`;
    this.cacheTtlMs = (options.cacheTtlSec ?? 0) * 1000;
    this.cache = this.cacheTtlMs > 0 ? new ExpiringCache<AuthInfo>(options.cacheMax ?? 10_000) : undefined;
  }

  verify(token: string): Promise<AuthInfo | undefined> {
    const key = hashOf(token);
    const cached = this.cache?.get(key);
    if (cached) return Promise.resolve(cached);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const call = this.ask(token).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call.then((auth) => {
      if (auth) this.remember(key, auth);
      return auth;
    });
  }

  /** Never past the token's own `exp`: the cache must not outlive the token. */
  private remember(key: string, auth: AuthInfo): void {
    const exp = auth.claims.exp;
    if (!this.cache || typeof exp !== 'number') return;
    const ttl = Math.min(this.cacheTtlMs, exp * 1000 - Date.now());
    if (ttl > 0) this.cache.set(key, auth, ttl);
  }

  private async ask(token: string): Promise<AuthInfo | undefined> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: this.authorization },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000),
      });
    } catch (cause) {
      throw new IntrospectionUnavailableError('the introspection endpoint did not answer', { cause });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new IntrospectionUnavailableError(`the introspection endpoint answered ${response.status}`);
    }
    let body: Introspection;
    try {
      body = (await response.json()) as Introspection;
    } catch (cause) {
      throw new IntrospectionUnavailableError('the introspection endpoint answered with something other than JSON', { cause });
    }
    return this.accept(body);
  }

  /** Only an active *access* token for us, from our issuer, is accepted (RFC 7662 §4). */
  private accept(body: Introspection): AuthInfo | undefined {
    if (body.active !== true || body.token_type === 'refresh_token') return undefined;
    if (body.iss !== undefined && body.iss !== this.options.issuer) return undefined;
    // RFC 7662 §4: "active" says the server still honours the token, not that it is meant for
    // this service; a token for another audience is refused like an invalid one (RFC 6750 §3.1).
    // Portcullis always answers `aud`, so an answer without one is refused too.
    if (!audienceIncludes(body.aud, this.options.audience)) return undefined;
    return authInfoFrom(body);
  }
}
