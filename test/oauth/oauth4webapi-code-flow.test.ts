import * as oauth from 'oauth4webapi';
import { listen, type ListeningServer } from '../../src/http/server';
import { createClient } from '../../src/identity/clients';
import { freePort } from '../support/backends';
import { formFields } from '../support/browser-flow';
import type { TestDeps } from '../support/deps';
import { oauthFixture } from '../support/oauth-fixture';

// A conformance pass with a strict, widely used client library: oauth4webapi checks the
// metadata, the authorization response (state, and iss per RFC 9207 since the metadata says it
// is sent), and every token response field, and refuses what does not fit.

const REDIRECT = 'http://127.0.0.1:9/callback';
const insecure = { [oauth.allowInsecureRequests]: true };

describe('oauth4webapi against the code flow', () => {
  let deps: TestDeps;
  let server: ListeningServer;
  let issuer: URL;
  let as: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: 'conformance' };

  beforeAll(async () => {
    const port = await freePort();
    issuer = new URL(`http://127.0.0.1:${port}`);
    const fixture = await oauthFixture({ ISSUER: issuer.origin });
    deps = fixture.deps;
    await createClient(deps.db, { id: 'conformance', type: 'public', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['items:read'], defaultScopes: ['items:read'], redirectUris: [REDIRECT] }, new Date(deps.clock.now()));
    server = await listen(fixture.app, port, '127.0.0.1', deps.log);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  afterAll(async () => {
    await server.close(1000);
    await deps.cleanup();
  });

  /** What a browser does between the authorization URL and the app's callback. */
  async function signInAt(url: URL): Promise<URL> {
    const page = await fetch(url, { redirect: 'manual' });
    if (page.status === 303) return new URL(page.headers.get('location')!);
    expect(page.status).toBe(200);
    const cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const answer = await fetch(new URL('/oauth/login', issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: issuer.origin },
      body: new URLSearchParams({ ...formFields(await page.text()), username: 'alice', password: 'alice-password' }),
    });
    expect(answer.status).toBe(303);
    return new URL(answer.headers.get('location')!);
  }

  async function authorizationUrl(verifier: string, state: string, extra: Record<string, string> = {}): Promise<URL> {
    const url = new URL(as.authorization_endpoint!);
    const params = { client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'items:read', state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  it('completes sign-in, code exchange and refresh with every check on', async () => {
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const callback = await signInAt(await authorizationUrl(verifier, state));
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'items:read', refresh_token: expect.any(String) });

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const revoked = await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure);
    await oauth.processRevocationResponse(revoked);
  });

  it('lets the library refuse a response whose iss is not the issuer (RFC 9207 mix-up defence)', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const callback = await signInAt(await authorizationUrl(verifier, state));
    callback.searchParams.set('iss', 'https://attacker.example.test');
    expect(() => oauth.validateAuthResponse(as, client, callback, state)).toThrow(/iss/);
  });

  it('reports an authorization error the way the library expects (error, state, iss)', async () => {
    const state = oauth.generateRandomState();
    const url = await authorizationUrl(oauth.generateRandomCodeVerifier(), state, { code_challenge_method: 'plain' });
    const answer = await fetch(url, { redirect: 'manual' });
    expect(answer.status).toBe(303);
    let thrown: unknown;
    try {
      oauth.validateAuthResponse(as, client, new URL(answer.headers.get('location')!), state);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect((thrown as oauth.AuthorizationResponseError).error).toBe('invalid_request');
  });

  it('answers a replayed code with an error the library surfaces as invalid_grant', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const params = oauth.validateAuthResponse(as, client, await signInAt(await authorizationUrl(verifier, state)), state);
    await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure));
    const again = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure);
    await expect(oauth.processAuthorizationCodeResponse(as, client, again)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
