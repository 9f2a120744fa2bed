import type { Context, Middleware, Next } from 'koa';
import { hasAllScopes, parseScope } from '../identity/scopes';
import { bearerChallenge, parseBearer } from '../oauth/bearer';
import type { AuthInfo, TokenVerifier } from './types';

export interface AuthState {
  auth?: AuthInfo;
}

type Challenge = Parameters<typeof bearerChallenge>[1];

function refuse(ctx: Context, status: number, error: string, description: string, challenge: string | undefined): void {
  if (challenge) ctx.set('WWW-Authenticate', challenge);
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

/**
 * The Koa side of the verifier: reads `Authorization: Bearer`, verifies the token, puts the
 * identity on `ctx.state.auth`, and answers RFC 6750 errors (401 invalid_token with a challenge,
 * 403 insufficient_scope naming the scopes; 503 when the token cannot be checked right now).
 */
export class VerifierMiddleware {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly realm: string,
  ) {}

  /** A valid token is required. */
  authenticate(): Middleware<AuthState> {
    return (ctx, next) => this.run(ctx, next, { required: true, scopes: [] });
  }

  /** A valid token carrying every one of `scopes` (wildcards and `admin` count, as on the server). */
  requireScopes(...scopes: string[]): Middleware<AuthState> {
    const required = parseScope(scopes.join(' '));
    if (!required) throw new TypeError(`invalid scope in requireScopes(${scopes.join(', ')})`);
    return (ctx, next) => this.run(ctx, next, { required: true, scopes: required });
  }

  /** No token: the request goes on with no `ctx.state.auth`. A token that is sent must be valid. */
  optional(): Middleware<AuthState> {
    return (ctx, next) => this.run(ctx, next, { required: false, scopes: [] });
  }

  private challenge(error?: Challenge): string {
    return bearerChallenge(this.realm, error);
  }

  private async run(ctx: Context & { state: AuthState }, next: Next, rule: { required: boolean; scopes: readonly string[] }): Promise<void> {
    const bearer = parseBearer(ctx.get('authorization') || undefined);
    if (bearer.kind === 'missing') {
      if (!rule.required) return next();
      return refuse(ctx, 401, 'invalid_token', 'a bearer token is required', this.challenge());
    }
    if (bearer.kind === 'malformed') {
      return refuse(ctx, 401, 'invalid_token', 'malformed Authorization header', this.challenge({ code: 'invalid_token', description: 'malformed Authorization header' }));
    }
    let auth: AuthInfo | undefined;
    try {
      auth = await this.verifier.verify(bearer.token);
    } catch {
      ctx.set('Retry-After', '1');
      return refuse(ctx, 503, 'temporarily_unavailable', 'the token cannot be verified right now', undefined);
    }
    if (!auth) {
      return refuse(ctx, 401, 'invalid_token', 'the token is invalid, expired or revoked', this.challenge({ code: 'invalid_token', description: 'the token is invalid, expired or revoked' }));
    }
    if (!hasAllScopes(auth.scopes, rule.scopes)) {
      const scope = rule.scopes.join(' ');
      return refuse(ctx, 403, 'insufficient_scope', `requires scope: ${scope}`, this.challenge({ code: 'insufficient_scope', scope }));
    }
    ctx.state.auth = auth;
    return next();
  }
}
