import { GRANTS } from './grants';

/** RFC 8414 authorization server metadata; every URL absolute, from ISSUER. */
export function authorizationServerMetadata(config: { readonly issuer: string }, scopesSupported: readonly string[]): Record<string, unknown> {
  const url = (path: string): string => `${config.issuer}${path}`;
  const clientAuth = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: config.issuer,
    token_endpoint: url('/oauth/token'),
    jwks_uri: url('/.well-known/jwks.json'),
    introspection_endpoint: url('/oauth/introspect'),
    revocation_endpoint: url('/oauth/revoke'),
    grant_types_supported: [...GRANTS.keys()],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    introspection_endpoint_auth_methods_supported: clientAuth,
    revocation_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    scopes_supported: scopesSupported,
  };
}
