import { createHmac, sign } from 'node:crypto';
import type { RingKey } from './jwk';

// JWS compact serialisation (RFC 7515) signed with node:crypto, synchronously: a signature costs
// tens of microseconds, and doing it inline keeps it off libuv's threadpool, where WebCrypto
// (jose 6) would queue it behind argon2 password hashes during a login storm.

const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

export function signJws(key: RingKey, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  if (!key.signingKey) throw new Error(`key ${key.kid} cannot sign`);
  const input = `${b64url(JSON.stringify({ ...header, alg: key.alg, kid: key.kid }))}.${b64url(JSON.stringify(payload))}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  switch (key.alg) {
    case 'ES256':
      // JWS wants the raw r||s form (RFC 7518 §3.4), not DER.
      signature = sign('sha256', data, { key: key.signingKey, dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      signature = sign(null, data, key.signingKey);
      break;
    case 'RS256':
      signature = sign('sha256', data, key.signingKey);
      break;
    case 'HS256':
      signature = createHmac('sha256', key.signingKey).update(data).digest();
      break;
  }
  return `${input}.${b64url(signature)}`;
}
