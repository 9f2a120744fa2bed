import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, jwtVerify } from 'jose';
import { generateJwk } from '../../src/tokens/generate';
import { KeySetError } from '../../src/tokens/jwk';
import { signJws } from '../../src/tokens/jws';
import { parseKeySet } from '../../src/tokens/keyring';

const set = (...keys: object[]): string => JSON.stringify({ keys });
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'state'];

function problems(text: string, options = {}): string {
  try {
    parseKeySet(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(KeySetError);
    return (error as Error).message;
  }
  throw new Error('expected the set to be refused');
}

describe('signing key sets', () => {
  it.each(['ES256', 'EdDSA', 'RS256'] as const)('signs with %s and verifies with jose against the published JWKS', async (alg) => {
    const keys = parseKeySet(set(generateJwk(alg, 'k1')));
    expect(keys.active.kid).toBe('k1');
    expect(keys.active.state).toBe('active');
    const token = signJws(keys.active, { typ: 'at+jwt' }, { sub: 'x' });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.jwks as never), { typ: 'at+jwt', algorithms: [alg] });
    expect(payload.sub).toBe('x');
    expect(protectedHeader).toEqual({ typ: 'at+jwt', alg, kid: 'k1' });
  });

  it('publishes public members only, whatever the configured keys carry', () => {
    const keys = parseKeySet(
      set(generateJwk('RS256', 'r', 'retired'), generateJwk('ES256', 'e', 'active'), generateJwk('EdDSA', 'o', 'next')),
    );
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual(['r', 'e', 'o']);
    for (const key of keys.jwks.keys) {
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
      expect(key.use).toBe('sig');
    }
  });

  it('uses the active key of several, and verifies with retired ones', async () => {
    const retired = generateJwk('ES256', 'old', 'retired');
    const keys = parseKeySet(set(retired, generateJwk('ES256', 'new', 'active')));
    expect(keys.active.kid).toBe('new');
    const oldToken = signJws(parseKeySet(set({ ...retired, state: 'active' })).active, {}, { sub: 'a' });
    await expect(compactVerify(oldToken, createLocalJWKSet(keys.jwks as never))).resolves.toBeDefined();
  });

  it('accepts a retired key given as its public part only', () => {
    const { d: _d, ...publicOnly } = generateJwk('ES256', 'old', 'retired') as { d: string };
    expect(parseKeySet(set(publicOnly, generateJwk('ES256', 'new', 'active'))).byKid.get('old')?.signingKey).toBeUndefined();
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /not JSON/],
    ['an empty set', set(), /at least one key/],
    ['a key without kid', set({ ...generateJwk(), kid: undefined }), /needs a kid/],
    ['duplicate kids', set(generateJwk('ES256', 'a', 'active'), generateJwk('ES256', 'a', 'next')), /duplicate kid: a/],
    ['two active keys', set(generateJwk('ES256', 'a', 'active'), generateJwk('ES256', 'b', 'active')), /exactly one key must be active \(found 2\)/],
    ['no active key among several', set(generateJwk('ES256', 'a', 'next'), generateJwk('ES256', 'b', 'retired')), /found 0/],
    ['several keys without state', set(generateJwk('ES256', 'a'), generateJwk('ES256', 'b')), /state must be/],
    ['an unknown state', set({ ...generateJwk('ES256', 'a'), state: 'primary' }), /state must be/],
    ['alg not matching the key', set({ ...generateJwk('ES256', 'a'), alg: 'RS256' }), /does not match/],
    ['alg none', set({ ...generateJwk('ES256', 'a'), alg: 'none' }), /does not match/],
    ['an encryption key', set({ ...generateJwk('ES256', 'a'), use: 'enc' }), /use must be "sig"/],
    ['a P-384 key', set({ kid: 'p', ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' }) }), /unsupported key type/],
    ['a short RSA key', set({ kid: 'r', ...generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }) }), /at least 2048 bits/],
    ['an HS256 key when not enabled', set({ kid: 'h', kty: 'oct', k: randomBytes(32).toString('base64url') }), /unless ALLOW_HS256=true/],
    ['an active key without its private part', set((({ d: _d, ...rest }) => rest)(generateJwk('ES256', 'a') as { d: string })), /needs its private part/],
    ['a broken key', set({ kid: 'x', kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'AAAA' }), /not a valid key/],
    // One key's public part with another's private part: it would sign tokens its JWK never verifies.
    ...(['ES256', 'EdDSA', 'RS256'] as const).map((alg) => {
      const mine = generateJwk(alg, 'm', 'active') as Record<string, unknown>;
      const other = generateJwk(alg, 'o', 'active') as Record<string, unknown>;
      const privateMembers = Object.fromEntries(['d', 'p', 'q', 'dp', 'dq', 'qi'].filter((member) => member in other).map((member) => [member, other[member]]));
      return [`an ${alg} key whose private part is another key's`, set({ ...mine, ...privateMembers }), /private part does not match its public part/] as [string, string, RegExp];
    }),
  ])('refuses %s', (_name, text, message) => {
    expect(problems(text)).toMatch(message);
  });

  it('supports HS256 only when enabled, and never publishes it', () => {
    const hs = { kid: 'h', kty: 'oct', k: randomBytes(32).toString('base64url') };
    const keys = parseKeySet(set(hs), { allowHs256: true });
    expect(keys.active.alg).toBe('HS256');
    expect(keys.jwks.keys).toEqual([]);
    expect(problems(set({ ...hs, k: randomBytes(16).toString('base64url') }), { allowHs256: true })).toMatch(/256 bits/);
  });
});
