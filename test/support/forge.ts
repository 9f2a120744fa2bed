import { createHmac, sign, type KeyObject } from 'node:crypto';

// Hand-made JWS for attacks the service must refuse: none of this is how tokens are issued.

export const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export type Signer = { readonly alg: 'ES256'; readonly key: KeyObject } | { readonly alg: 'HS256'; readonly secret: Buffer | string } | { readonly alg: 'none' };

export function forge(header: Record<string, unknown>, payload: Record<string, unknown> | string, signer: Signer): string {
  const body = typeof payload === 'string' ? Buffer.from(payload).toString('base64url') : b64json(payload);
  const input = `${b64json({ ...header, alg: signer.alg })}.${body}`;
  switch (signer.alg) {
    case 'none':
      return `${input}.`;
    case 'HS256':
      return `${input}.${createHmac('sha256', signer.secret).update(input).digest('base64url')}`;
    case 'ES256':
      return `${input}.${sign('sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
}
