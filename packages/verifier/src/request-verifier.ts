import { bearerChallenge, parseBearer } from './bearer.js';
import { hasAllScopes, parseScope } from './scopes.js';
import type { AuthInfo, TokenVerifier } from './types.js';

// The framework-free core: a request's headers in, the caller or an RFC 6750 refusal out. Every
// adapter (Koa, Express, Fastify, node:http) only copies the refusal onto its own response.

/**
 * Request headers as Node's `IncomingHttpHeaders` (what Koa, Express and Fastify expose), any
 * plain record of them (names in any case), or a Fetch API `Headers`.
 */
export type RequestHeaders = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface BearerRequest {
  readonly headers: RequestHeaders;
}

export interface Requirement {
  /** Every one of these must be held (the server's matcher: wildcards, `admin`, `*` count). */
  readonly scopes?: readonly string[];
  /** No token at all is fine (the request goes on anonymous); a token that is sent must be valid. */
  readonly optional?: boolean;
}

export interface Verified<A> {
  readonly ok: true;
  /** The caller; undefined only for an optional requirement and a request without a token. */
  readonly auth: A;
}

export type RefusalError = 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/** An answer to send as is: `status`, every header in `headers`, and `body` as JSON. */
export interface Refusal {
  readonly ok: false;
  readonly status: 401 | 403 | 503;
  readonly error: RefusalError;
  readonly description: string;
  /** The RFC 6750 §3 challenge (also in `headers`); none on 503, where the token is not at fault. */
  readonly wwwAuthenticate: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: RefusalError; readonly error_description: string };
}

export type VerifyResult<A> = Verified<A> | Refusal;

export interface RequestVerifier {
  /** The token check alone (a bearer token string in, the caller or undefined out). */
  readonly tokens: TokenVerifier;
  verify(request: BearerRequest, requirement?: Requirement & { readonly optional?: false }): Promise<VerifyResult<AuthInfo>>;
  verify(request: BearerRequest, requirement: Requirement & { readonly optional: true }): Promise<VerifyResult<AuthInfo | undefined>>;
  verify(request: BearerRequest, requirement?: Requirement): Promise<VerifyResult<AuthInfo | undefined>>;
  /** Stops the token check's background work (jwks mode's revocation feed subscription). */
  close(): void;
}

/**
 * The required scopes, checked against the scope grammar: a typo such as `items:read,items:write`
 * is a programming error, thrown rather than quietly never matching.
 */
export function requiredScopes(scopes: readonly string[]): string[] {
  const parsed = parseScope(scopes.join(' '));
  if (!parsed) throw new TypeError(`invalid required scope in (${scopes.join(', ')})`);
  return parsed;
}

/** The Authorization header; a repeated one is joined, so that it reads as malformed. */
function authorizationOf(headers: RequestHeaders): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get('authorization') ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record.authorization;
  if (value === undefined) {
    for (const name of Object.keys(record)) {
      if (name.toLowerCase() === 'authorization') {
        value = record[name];
        break;
      }
    }
  }
  return typeof value === 'string' || value === undefined ? value : value.join(', ');
}

function refusal(status: Refusal['status'], error: RefusalError, description: string, challenge: string | undefined): Refusal {
  // RFC 6749 §5.2's `Retry-After` on 503: the verifier's own dependency is down, not the token.
  const headers = challenge ? { 'WWW-Authenticate': challenge } : { 'Retry-After': '1' };
  return { ok: false, status, error, description, wwwAuthenticate: challenge, headers, body: { error, error_description: description } };
}

/** The core over any token check; `realm` names the protected resource in challenges. */
export function requestVerifier(tokens: TokenVerifier, realm: string): RequestVerifier {
  const invalid = (description: string) => refusal(401, 'invalid_token', description, bearerChallenge(realm, { code: 'invalid_token', description }));

  async function verify(request: BearerRequest, requirement: Requirement = {}): Promise<VerifyResult<AuthInfo | undefined>> {
    const scopes = requirement.scopes && requirement.scopes.length > 0 ? requiredScopes(requirement.scopes) : [];
    const bearer = parseBearer(authorizationOf(request.headers));
    if (bearer.kind === 'missing') {
      if (requirement.optional) return { ok: true, auth: undefined };
      // RFC 6750 §3.1: no error code in the challenge when the request carried no token.
      return refusal(401, 'invalid_token', 'a bearer token is required', bearerChallenge(realm));
    }
    if (bearer.kind === 'malformed') return invalid('malformed Authorization header');
    let auth: AuthInfo | undefined;
    try {
      auth = await tokens.verify(bearer.token);
    } catch {
      return refusal(503, 'temporarily_unavailable', 'the token cannot be verified right now', undefined);
    }
    if (!auth) return invalid('the token is invalid, expired or revoked');
    if (!hasAllScopes(auth.scopes, scopes)) {
      const scope = scopes.join(' ');
      return refusal(403, 'insufficient_scope', `requires scope: ${scope}`, bearerChallenge(realm, { code: 'insufficient_scope', scope }));
    }
    return { ok: true, auth };
  }

  return { tokens, verify: verify as RequestVerifier['verify'], close: () => tokens.close?.() };
}
