import { hash } from 'node:crypto';
import { isActiveSecret } from '../identity/client-secret-records';
import type { ClientWithSecret } from '../identity/clients';

// HOT PATH. A confidential client presents the same secret on every introspection; checking it
// against each of the client's secrets costs MAX_ACTIVE_SECRETS salted HMACs (a profile of
// introspection put them at ~8 % of its CPU). A secret that matched is remembered, as its
// SHA-256, on the client record it matched: the next request pays one SHA-256 and a map lookup.
//
// - Only a match is remembered, so a hit needs the secret itself (a digest is no shortcut to
//   one), and a miss takes the constant-time path as before: the time of a refusal still tells
//   nothing. Comparing digests, not secrets, keeps the lookup's timing free of the secret.
// - Kept on the record object: when the client cache reads the client again (CLIENT_CACHE_TTL,
//   or a secret that matched nothing), the new record starts empty, so a removed secret stops
//   working exactly when it did before. A hit still checks the secret's notAfter, so a
//   rotated-out secret ends on time within the cache's lifetime too.
// - Never the secret in memory beyond the request: only its digest.

const remembered = new WeakMap<ClientWithSecret, Map<string, string>>();

/** The SHA-256 of a presented secret, the memo's key. */
export function secretDigest(secret: string): string {
  return hash('sha256', secret, 'base64');
}

/** The id of the client's still-active secret this digest matched before, if any. */
export function recalledSecret(client: ClientWithSecret, digest: string, now: number): string | undefined {
  const secretId = remembered.get(client)?.get(digest);
  if (secretId === undefined) return undefined;
  const secret = client.secrets.find((candidate) => candidate.id === secretId);
  return secret !== undefined && isActiveSecret(secret, now) ? secretId : undefined;
}

/** Remembers that the secret with this digest is the client's secret `secretId`. */
export function rememberSecret(client: ClientWithSecret, digest: string, secretId: string): void {
  let memo = remembered.get(client);
  if (memo === undefined) {
    memo = new Map();
    remembered.set(client, memo);
  }
  // At most one digest per secret: a record holds MAX_ACTIVE_SECRETS live ones.
  if (memo.size < client.secrets.length) memo.set(digest, secretId);
}
