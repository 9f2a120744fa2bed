import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { KeyState, SigningAlg } from './jwk';

/** A new private JWK for the given algorithm, ready to paste into a JWK Set. */
export function generateJwk(alg: Exclude<SigningAlg, 'HS256'> = 'ES256', kid?: string, state?: KeyState): JsonWebKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const date = new Date().toISOString().slice(0, 10);
  return { kid: kid ?? `${date}-${randomBytes(4).toString('hex')}`, alg, use: 'sig', ...(state ? { state } : {}), ...jwk };
}
