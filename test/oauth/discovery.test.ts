import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { listen, type ListeningServer } from '../../src/http/server';
import { GRANT_TYPES } from '../../src/identity/clients';
import { GRANTS } from '../../src/oauth/grants';
import { freePort } from '../support/backends';
import type { TestDeps } from '../support/deps';
import { oauthFixture, SERVICE_SECRET } from '../support/oauth-fixture';

describe('RFC 8414 discovery', () => {
  let deps: TestDeps;
  let server: ListeningServer;
  let issuer: URL;

  beforeAll(async () => {
    const port = await freePort();
    issuer = new URL(`http://127.0.0.1:${port}`);
    const fixture = await oauthFixture({ ISSUER: issuer.origin });
    deps = fixture.deps;
    server = await listen(fixture.app, port, '127.0.0.1', deps.log);
  });
  afterAll(async () => {
    await server.close(1000);
    await deps.cleanup();
  });

  it('publishes absolute endpoint URLs built from ISSUER', async () => {
    const metadata = (await (await fetch(new URL('/.well-known/oauth-authorization-server', issuer))).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: issuer.origin,
      authorization_endpoint: `${issuer.origin}/oauth/authorize`,
      token_endpoint: `${issuer.origin}/oauth/token`,
      jwks_uri: `${issuer.origin}/.well-known/jwks.json`,
      introspection_endpoint: `${issuer.origin}/oauth/introspect`,
      revocation_endpoint: `${issuer.origin}/oauth/revoke`,
      end_session_endpoint: `${issuer.origin}/oauth/logout`,
      grant_types_supported: ['authorization_code', 'password', 'refresh_token', 'client_credentials'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['items:read', 'users:read:own', 'reports:*']));
  });

  it('lists exactly the grant types a client can be registered for, each one the token endpoint serves', () => {
    expect([...GRANTS.keys()].sort()).toEqual([...GRANT_TYPES].sort());
  });

  it('serves the JWKS with a Cache-Control max-age from config', async () => {
    const res = await fetch(new URL('/.well-known/jwks.json', issuer));
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('lets a standard OAuth client library discover the server and obtain a client_credentials token', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true }; // plain http on loopback, for the test
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const client: oauth.Client = { client_id: 'service' };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(SERVICE_SECRET), { scope: 'items:read' }, insecure);
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('items:read');

    const { payload } = await jwtVerify(result.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), {
      issuer: as.issuer,
      audience: 'https://api.example.test',
      typ: 'at+jwt',
      currentDate: new Date(deps.clock.now()),
    });
    expect(payload.client_id).toBe('service');
  });
});
