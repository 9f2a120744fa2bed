import { GRANTS } from './grants';

/** RFC 8414 authorization server metadata; every URL absolute, from ISSUER. */
export function authorizationServerMetadata(config: { readonly issuer: string }, scopesSupported: readonly string[]): Record<string, unknown> {
  const url = (path: string): string => `${config.issuer}${path}`;
  const clientAuth = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: config.issuer,
    authorization_endpoint: url('/oauth/authorize'),
    token_endpoint: url('/oauth/token'),
    jwks_uri: url('/.well-known/jwks.json'),
    introspection_endpoint: url('/oauth/introspect'),
    revocation_endpoint: url('/oauth/revoke'),
    // OpenID Connect RP-Initiated Logout 1.0 §2.1 names it; the logout takes the same parameters.
    end_session_endpoint: url('/oauth/logout'),
    // The token endpoint's table of grants, so this list cannot drift from what it serves.
    grant_types_supported: [...GRANTS.keys()],
    // Only the code flow: the implicit grant puts tokens in URLs (RFC 9700 §2.1.2).
    response_types_supported: ['code'],
    // RFC 7636: plain would send the verifier in the clear (RFC 9700 §2.1.1).
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: every authorization response names its issuer, against mix-up attacks.
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    introspection_endpoint_auth_methods_supported: clientAuth,
    revocation_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    scopes_supported: scopesSupported,
  };
}
