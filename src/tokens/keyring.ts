import type { JsonWebKey } from 'node:crypto';
import { importJwk, KeySetError, type RingKey } from './jwk';

/** A validated key set: exactly one active key, every key verifying, public parts ready. */
export interface KeySet {
  readonly active: RingKey;
  readonly byKid: ReadonlyMap<string, RingKey>;
  /** RFC 7517 JWK Set of the published keys: public members only, HS256 never. */
  readonly jwks: { readonly keys: readonly JsonWebKey[] };
}

/** Parses and validates a JWK Set document (as configured in SIGNING_KEYS / SIGNING_KEYS_FILE). */
export function parseKeySet(text: string, { allowHs256 = false } = {}): KeySet {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KeySetError(['not JSON']);
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new KeySetError(['expected a JWK Set: {"keys": [...]} with at least one key']);

  // A set of one key with no state means "this is the key": it signs.
  const defaultState = keys.length === 1 ? 'active' : undefined;
  const problems: string[] = [];
  const imported: RingKey[] = [];
  for (const jwk of keys as Array<JsonWebKey & { kid?: unknown }>) {
    const result = typeof jwk === 'object' && jwk !== null ? importJwk(jwk, defaultState, allowHs256) : 'every key must be a JSON object';
    if (typeof result === 'string') problems.push(result);
    else imported.push(result);
  }
  const kids = imported.map((key) => key.kid);
  const duplicates = kids.filter((kid, index) => kids.indexOf(kid) !== index);
  if (duplicates.length > 0) problems.push(`duplicate kid: ${[...new Set(duplicates)].join(', ')}`);
  const active = imported.filter((key) => key.state === 'active');
  if (problems.length === 0 && active.length !== 1) problems.push(`exactly one key must be active (found ${active.length})`);
  // A next key is promoted to active later: it must be able to sign then.
  for (const key of imported) {
    if ((key.state === 'active' || key.state === 'next') && !key.signingKey) problems.push(`key ${key.kid}: an ${key.state} key needs its private part`);
  }
  if (problems.length > 0) throw new KeySetError(problems);

  return {
    active: active[0]!,
    byKid: new Map(imported.map((key) => [key.kid, key])),
    jwks: { keys: imported.flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) },
  };
}

type Listener = (keys: KeySet) => void;

/**
 * The key set in force. Replaced whole on reload, so a request holds one consistent set for
 * its whole life; listeners (caches of verified tokens) hear of every change.
 */
export class Keyring {
  private listeners: Listener[] = [];

  constructor(private keys: KeySet) {}

  get current(): KeySet {
    return this.keys;
  }

  replace(keys: KeySet): void {
    this.keys = keys;
    for (const listener of this.listeners) listener(keys);
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }
}
