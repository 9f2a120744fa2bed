import { MAX_ACTIVE_SECRETS } from '../../src/identity/client-secret-records';
import { hashClientSecret } from '../../src/identity/client-secrets';
import type { ClientWithSecret } from '../../src/identity/clients';
import { authenticateClient, type ClientSource } from '../../src/oauth/client-auth';
import { OAuthError } from '../../src/oauth/errors';

// The module object the service's code calls createHmac on (CommonJS under jest): counting its
// calls counts the secret comparisons one authentication makes.
const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');

const NOW = Date.UTC(2026, 0, 1);
const SECRETS = ['first-secret-0123456789-0123456789-0123', 'second-secret-0123456789-0123456789-012'];

function confidential(secrets: ReadonlyArray<{ secret: string; notAfter: number | null }>): ClientWithSecret {
  return {
    id: 'svc',
    name: 'svc',
    type: 'confidential',
    grantTypes: ['client_credentials'],
    scopes: [],
    defaultScopes: [],
    audiences: [],
    corsOrigins: [],
    canIntrospect: false,
    redirectUris: [],
    postLogoutRedirectUris: [],
    requireConsent: false,
    refreshTokenTtlSec: null,
    refreshIdleTtlSec: null,
    refreshTokenInCookie: false,
    createdAt: new Date(NOW),
    secretRotatedAt: null,
    secrets: secrets.map(({ secret, notAfter }, i) => ({ id: `cs_secret${i}`, hash: hashClientSecret(secret), notAfter: notAfter === null ? null : new Date(notAfter) })),
  };
}

/** How many HMACs one authentication computes, and whether (and with which secret id) it passed. */
async function attempt(client: ClientWithSecret | undefined, secret: string, source: Partial<ClientSource> = {}): Promise<{ hmacs: number; secretId: string | undefined | 'refused' }> {
  const spy = jest.spyOn(crypto, 'createHmac');
  try {
    const params = new Map([['grant_type', 'client_credentials'], ['client_id', 'svc'], ['client_secret', secret]]);
    const result = await authenticateClient({ find: async () => client, ...source }, undefined, params, { now: NOW }).then(
      (authenticated) => authenticated.secretId,
      (error: unknown) => {
        if (!(error instanceof OAuthError) || error.code !== 'invalid_client') throw error;
        return 'refused' as const;
      },
    );
    return { hmacs: spy.mock.calls.length, secretId: result };
  } finally {
    spy.mockRestore();
  }
}

describe('client authentication is constant-time over the client\'s secrets (RFC 6749 §2.3.1)', () => {
  const none = confidential([{ secret: SECRETS[0]!, notAfter: NOW }]);
  const one = confidential([{ secret: SECRETS[0]!, notAfter: null }]);
  const two = confidential([
    { secret: SECRETS[0]!, notAfter: NOW + 1000 },
    { secret: SECRETS[1]!, notAfter: null },
  ]);

  it.each([
    ['an unknown client', undefined, SECRETS[0]!, 'refused'],
    ['a client whose only secret has ended', none, SECRETS[0]!, 'refused'],
    ['one secret, presented', one, SECRETS[0]!, 'cs_secret0'],
    ['one secret, a wrong one presented', one, SECRETS[1]!, 'refused'],
    ['two secrets, the first presented', two, SECRETS[0]!, 'cs_secret0'],
    ['two secrets, the second presented', two, SECRETS[1]!, 'cs_secret1'],
    ['two secrets, a wrong one presented', two, 'wrong-secret-0123456789-0123456789-0123', 'refused'],
  ] as const)('%s: the same number of comparisons, every one made', async (_case, client, secret, outcome) => {
    expect(await attempt(client, secret)).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: outcome });
  });

  it('tries a secret up to its notAfter, not from then on', async () => {
    const at = (now: number) =>
      authenticateClient({ find: async () => two }, undefined, new Map([['client_id', 'svc'], ['client_secret', SECRETS[0]!]]), { now }).then(
        (authenticated) => authenticated.secretId,
        (error: unknown) => (error instanceof OAuthError ? error.code : error),
      );
    expect(await at(NOW + 999)).toBe('cs_secret0');
    expect(await at(NOW + 1000)).toBe('invalid_client');
  });

  it('a secret that matches nothing cached is tried once more against the fresh record (the same work again)', async () => {
    const reload = jest.fn(async () => two);
    expect(await attempt(one, SECRETS[1]!, { reload })).toEqual({ hmacs: 2 * MAX_ACTIVE_SECRETS, secretId: 'cs_secret1' });
    expect(reload).toHaveBeenCalledTimes(1);
    expect(await attempt(one, 'wrong-secret-0123456789-0123456789-0123', { reload })).toEqual({ hmacs: 2 * MAX_ACTIVE_SECRETS, secretId: 'refused' });
    // A secret that matched the cached record needs no fresh one.
    const cached = confidential([{ secret: SECRETS[0]!, notAfter: null }]);
    expect(await attempt(cached, SECRETS[0]!, { reload })).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: 'cs_secret0' });
    expect(reload).toHaveBeenCalledTimes(2);
  });
});

// Issue 17: the introspecting client presents the same secret on every request.
describe('a secret that matched is remembered by its digest on the client record (oauth/secret-memo.ts)', () => {
  it('the next authentication with it makes no HMAC; a wrong secret still pays every comparison and is refused', async () => {
    const client = confidential([{ secret: SECRETS[0]!, notAfter: null }, { secret: SECRETS[1]!, notAfter: null }]);
    expect(await attempt(client, SECRETS[1]!)).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: 'cs_secret1' });
    expect(await attempt(client, SECRETS[1]!)).toEqual({ hmacs: 0, secretId: 'cs_secret1' });
    expect(await attempt(client, 'wrong-secret-0123456789-0123456789-0123')).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: 'refused' });
    // The other secret is its own entry.
    expect(await attempt(client, SECRETS[0]!)).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: 'cs_secret0' });
    expect(await attempt(client, SECRETS[0]!)).toEqual({ hmacs: 0, secretId: 'cs_secret0' });
  });

  it('a remembered secret ends at its notAfter all the same', async () => {
    const client = confidential([{ secret: SECRETS[0]!, notAfter: NOW + 1000 }, { secret: SECRETS[1]!, notAfter: null }]);
    const at = (now: number) =>
      authenticateClient({ find: async () => client }, undefined, new Map([['client_id', 'svc'], ['client_secret', SECRETS[0]!]]), { now }).then(
        (authenticated) => authenticated.secretId,
        (error: unknown) => (error instanceof OAuthError ? error.code : error),
      );
    expect(await at(NOW)).toBe('cs_secret0');
    expect(await at(NOW + 999)).toBe('cs_secret0');
    expect(await at(NOW + 1000)).toBe('invalid_client');
  });

  it('a record read again (a removed secret, CLIENT_CACHE_TTL) remembers nothing: the secret is checked against it', async () => {
    const before = confidential([{ secret: SECRETS[0]!, notAfter: null }]);
    expect((await attempt(before, SECRETS[0]!)).secretId).toBe('cs_secret0');
    expect((await attempt(before, SECRETS[0]!)).hmacs).toBe(0);
    // The same client, read again after the secret was replaced.
    const after = confidential([{ secret: SECRETS[1]!, notAfter: null }]);
    expect(await attempt(after, SECRETS[0]!)).toEqual({ hmacs: MAX_ACTIVE_SECRETS, secretId: 'refused' });
  });
});
