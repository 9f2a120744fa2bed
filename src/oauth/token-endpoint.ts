import { findClient, type Client } from '../identity/clients';
import { authenticateClient, type ClientAuthGuard, type ClientSource, type SecretUses } from './client-auth';
import { OAuthError } from './errors';
import type { GrantDeps, TokenResponse } from './grants/grant';
import { GRANTS } from './grants';
import { familyPolicy } from './refresh-policy';
import { required, type OAuthParams } from './params';

export interface TokenRequest {
  readonly params: OAuthParams;
  readonly authorization: string | undefined;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** The request id, on the events this request causes (audit trail). */
  readonly requestId?: string | undefined;
  /** Aborts when the client goes away (see GrantRequest.signal). */
  readonly signal?: AbortSignal | undefined;
  /** What a browser said about the request, for cookie mode's rules (see cookieModeProblem). */
  readonly browser?: BrowserContext | undefined;
}

export interface BrowserContext {
  /** The Origin header, when sent. */
  readonly origin: string | undefined;
  /** The request carried X-Portcullis-Refresh: cookie (a custom header: a cross-site form cannot send it). */
  readonly cookieHeader: boolean;
  /** The refresh token was taken from the __Host-portcullis_refresh cookie. */
  readonly refreshFromCookie: boolean;
}

/**
 * Cookie mode (a client with refreshTokenInCookie): the refresh token lives in a cookie that any
 * same-site request carries and that any answer of ours may set. So every token request of such
 * a client, whether it reads the cookie (refresh) or sets it (code exchange, refresh), must come
 * from a page of the client's own origins with the custom header; else a cross-site form could
 * plant an attacker's login in the victim's cookie. And only such a client reads the cookie.
 */
function cookieModeProblem(client: Client, browser: BrowserContext | undefined): string | undefined {
  if (!client.refreshTokenInCookie) return browser?.refreshFromCookie ? 'this client does not keep its refresh token in a cookie' : undefined;
  if (!browser?.cookieHeader) return 'this client keeps its refresh token in a cookie: send X-Portcullis-Refresh: cookie from its own page';
  if (browser.origin === undefined || !client.corsOrigins.includes(browser.origin)) return 'this client keeps its refresh token in a cookie: the request must come from one of its registered origins';
  return undefined;
}

export interface TokenResult {
  readonly response: TokenResponse;
  /** Who the tokens went to: cookie mode moves a refresh token into a cookie for its clients. */
  readonly client: Client;
  /** The longest a refresh token of this client can live (the cookie's Max-Age in cookie mode). */
  readonly refreshTokenLifetimeSec: number;
  /** Which of the client's secrets authenticated it (none for a public client). */
  readonly secretId: string | undefined;
}

/**
 * RFC 6749 §3.2: the token endpoint, independent of HTTP framework. `clients` finds clients (the
 * service's short-lived cache, CLIENT_CACHE_TTL); without it, the database is read each time.
 */
export async function handleTokenRequest(
  deps: GrantDeps & { readonly clients?: ClientSource; readonly clientAuth?: ClientAuthGuard; readonly secretUses?: SecretUses },
  request: TokenRequest,
): Promise<TokenResult> {
  const grantType = required(request.params, 'grant_type');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', `unsupported grant_type: ${grantType}`);
  const { client, secretId } = await authenticateClient(deps.clients ?? { find: (id) => findClient(deps.db, id) }, request.authorization, request.params, {
    now: deps.clock.now(),
    throttling: deps.clientAuth && { guard: deps.clientAuth, address: request.ip, requestId: request.requestId },
    uses: deps.secretUses,
  });
  if (!(client.grantTypes as readonly string[]).includes(grantType)) {
    throw new OAuthError('unauthorized_client', `client is not allowed the ${grantType} grant`);
  }
  // Checked before any token is touched or issued.
  const problem = cookieModeProblem(client, request.browser);
  if (problem !== undefined) throw new OAuthError('invalid_request', problem);
  const response = await grant.handle(
    {
      client,
      secretId,
      params: request.params,
      ip: request.ip,
      requestId: request.requestId,
      userAgent: request.userAgent,
      // Read only by the grants that wait for a password hash: made on first read (abort-signal.ts).
      get signal() {
        return request.signal;
      },
    },
    deps,
  );
  return { response, client, refreshTokenLifetimeSec: familyPolicy(deps.config, client).absoluteTtlMs / 1000, secretId };
}
