// RFC 6749 §5.2 error codes, plus RFC 6750 §3.1 (bearer), RFC 7009 §2.2.1 and RFC 8707 §2.
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'access_denied'
  // RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6, redirected to the client.
  | 'unsupported_response_type'
  | 'login_required'
  | 'consent_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'server_error'
  | 'temporarily_unavailable';

const STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  unsupported_response_type: 400,
  login_required: 400,
  consent_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

export interface OAuthErrorOptions {
  /** Overrides the code's usual status (e.g. 413 for an oversized invalid_request). */
  readonly status?: number;
  /** RFC 6749 §5.2: 401 invalid_client answers with the scheme the client tried. */
  readonly wwwAuthenticate?: string;
}

/** An OAuth protocol error. Thrown anywhere below http/, rendered by one middleware. */
export class OAuthError extends Error {
  readonly status: number;
  readonly wwwAuthenticate: string | undefined;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.status = options.status ?? STATUS[code];
    this.wwwAuthenticate = options.wwwAuthenticate;
  }
}
