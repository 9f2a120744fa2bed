import { z } from 'zod';
import type { OAuthErrorCode } from './errors';
import { GRANTS } from './grants';

// The OAuth endpoints' parameters and answers as schemas, for the OpenAPI document. The
// endpoints check their parameters themselves (strictly, with RFC 6749 §5.2 errors); these
// describe them. The token request is built from the grant table, so a new grant is documented
// by its own file.

const ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'invalid_token',
  'insufficient_scope',
  'access_denied',
  'unsupported_response_type',
  'login_required',
  'consent_required',
  'request_not_supported',
  'request_uri_not_supported',
  'server_error',
  'temporarily_unavailable',
] as const satisfies readonly OAuthErrorCode[];

/** RFC 6749 §5.2 error response (and every other error body of the service, with its own codes). */
export const oauthErrorSchema = z
  .object({
    error: z.enum(ERROR_CODES),
    error_description: z.string(),
    request_id: z.string().optional().describe('on a 500: the id of the log line'),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 §5.2 error response' });

/** RFC 6749 §2.3.1 client_secret_post (or the public client's id); Basic is the alternative. */
const clientAuthentication = {
  client_id: z.string().optional().describe('the client (public clients; client_secret_post)'),
  client_secret: z.string().optional().describe('client_secret_post; or use HTTP Basic (client_secret_basic), not both'),
};

function grantRequest(parameters: z.ZodObject): z.ZodObject {
  const type = (parameters.shape.grant_type as z.ZodLiteral<string>).value;
  return parameters.extend(clientAuthentication).meta({ id: `TokenRequest_${type}`, description: `grant_type=${type}` });
}

/** RFC 6749 §3.2 token request, one shape per grant of the grant table. */
export function tokenRequestSchema(): z.ZodType {
  const [first, ...rest] = [...GRANTS.values()].map((grant) => grantRequest(grant.parameters));
  return z.discriminatedUnion('grant_type', [first!, ...rest]);
}

/** RFC 6749 §5.1 successful token response. */
export const tokenResponseSchema = z
  .object({
    access_token: z.string().describe('an RFC 9068 JWT'),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    scope: z.string().optional(),
    refresh_token: z.string().optional().describe('not for client_credentials; in a cookie instead for cookie-mode clients'),
  })
  .meta({ id: 'TokenResponse', description: 'RFC 6749 §5.1 token response' });

/** RFC 7662 §2.1 introspection request. */
export const introspectionRequestSchema = z.object({
  token: z.string(),
  token_type_hint: z.string().optional().describe('access_token or refresh_token; only a hint'),
  ...clientAuthentication,
});

/** RFC 7662 §2.2: `{active: false}` for anything not active. */
export const introspectionResponseSchema = z
  .object({
    active: z.boolean(),
    scope: z.string().optional(),
    client_id: z.string().optional(),
    username: z.string().optional(),
    token_type: z.enum(['Bearer', 'refresh_token']).optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
    nbf: z.number().int().optional(),
    sub: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    iss: z.string().optional(),
    jti: z.string().optional(),
  })
  .meta({ id: 'IntrospectionResponse', description: 'RFC 7662 §2.2 introspection response' });

/** RFC 7009 §2.1 revocation request. */
export const revocationRequestSchema = z.object({
  token: z.string(),
  token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
  ...clientAuthentication,
});

/** RFC 6749 §4.1.1 with RFC 7636 (PKCE), RFC 8707 (resource) and OpenID's prompt/login_hint. */
export const authorizationRequestSchema = z.object({
  response_type: z.literal('code'),
  client_id: z.string(),
  redirect_uri: z.string().optional().describe('required when the client has more than one'),
  scope: z.string().optional(),
  state: z.string().optional(),
  code_challenge: z.string().describe('RFC 7636: BASE64URL(SHA256(code_verifier))'),
  code_challenge_method: z.literal('S256'),
  resource: z.string().optional(),
  prompt: z.enum(['none', 'login', 'consent', 'select_account']).optional(),
  login_hint: z.string().optional(),
  response_mode: z.literal('query').optional(),
});

/** OpenID Connect RP-Initiated Logout 1.0 §2 parameters. */
export const logoutRequestSchema = z.object({
  client_id: z.string().optional(),
  post_logout_redirect_uri: z.string().optional(),
  state: z.string().optional(),
});

/** Forward-auth (`/oauth/verify`): only these two, each at most once. */
export const verifyQuerySchema = z.object({
  audience: z.string().optional().describe('the protected service\'s identifier; the token\'s aud must contain it. Always pass it.'),
  scope: z.string().optional().describe('space-separated scopes the token must all carry'),
});

/** RFC 8414 §2 authorization server metadata (the fields this server publishes). */
export const metadataSchema = z
  .object({
    issuer: z.string(),
    authorization_endpoint: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    introspection_endpoint: z.string(),
    revocation_endpoint: z.string(),
    end_session_endpoint: z.string(),
    grant_types_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    code_challenge_methods_supported: z.array(z.string()),
    authorization_response_iss_parameter_supported: z.boolean(),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    introspection_endpoint_auth_methods_supported: z.array(z.string()),
    revocation_endpoint_auth_methods_supported: z.array(z.string()),
    scopes_supported: z.array(z.string()),
  })
  .meta({ id: 'AuthorizationServerMetadata', description: 'RFC 8414 authorization server metadata' });

/** RFC 7517 §5 JWK set: public keys only. */
export const jwksSchema = z
  .object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string(), use: z.string().optional(), alg: z.string().optional() })) })
  .meta({ id: 'JWKSet', description: 'RFC 7517 JWK set of the public signing keys' });
