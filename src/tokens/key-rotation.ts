import type { JsonWebKey } from 'node:crypto';
import { generateJwk } from './generate';
import { keyTime, type KeyState, type SigningAlg } from './jwk';
import { parseKeySet } from './keyring';

// One step of the signing-key schedule (`portcullis keys rotate`, README "Signing keys and
// rotation"). Every key goes next → active → retired → removed, one step per run:
// - next: published in the JWKS before it ever signs, so resource services' caches hold it by the
//   time tokens carry its kid;
// - active: signs;
// - retired: still published, so the tokens it signed keep verifying until they expire;
// - removed once retired for ACCESS_TOKEN_TTL + JWKS_MAX_AGE: every token it signed has expired.
// Pure: text in, text out; the CLI reads and writes the file (config/atomic-file.ts).

export type GeneratedAlg = Exclude<SigningAlg, 'HS256'>;

export interface RotationRules {
  readonly now: Date;
  /** How long a retired key stays: ACCESS_TOKEN_TTL + JWKS_MAX_AGE. */
  readonly retiredLifetimeSec: number;
  /** How long a next key must have been published before it may sign: JWKS_MAX_AGE. */
  readonly nextMinAgeSec: number;
  /** Algorithm of the new next key; default: that of the key it follows (ES256 after HS256). */
  readonly alg?: GeneratedAlg;
  readonly allowHs256: boolean;
}

export interface KeySummary {
  readonly kid: string;
  readonly state: KeyState;
  readonly alg: SigningAlg;
}

export type KeyChange =
  | { readonly action: 'added'; readonly kid: string; readonly alg: GeneratedAlg; readonly from: null; readonly to: 'next' }
  | { readonly action: 'promoted'; readonly kid: string; readonly from: 'next'; readonly to: 'active' }
  | { readonly action: 'retired'; readonly kid: string; readonly from: 'active'; readonly to: 'retired' }
  /**
   * A key put in its state by hand, at a time nobody wrote down: timed from now, so it moves on
   * one rotation later than it might have (`until`: when it may be promoted, or removed).
   */
  | { readonly action: 'stamped'; readonly kid: string; readonly from: 'next' | 'retired'; readonly to: 'next' | 'retired'; readonly until: string }
  | { readonly action: 'removed'; readonly kid: string; readonly from: 'retired'; readonly to: null; readonly retiredAt: string };

export interface RotationPlan {
  /** The new JWK Set document, as it will be written. */
  readonly text: string;
  readonly before: readonly KeySummary[];
  readonly after: readonly KeySummary[];
  readonly changes: readonly KeyChange[];
}

/** The set is well formed but this step must not be taken now (the reason says when it may). */
export class RotationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationRefused';
  }
}

interface Entry {
  jwk: JsonWebKey;
  state: KeyState;
  readonly alg: SigningAlg;
  readonly kid: string;
}

const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A new key follows the algorithm of the one before it, so a schedule keeps what verifiers accept. */
function successorAlg(follows: Entry): GeneratedAlg {
  return follows.alg === 'HS256' ? 'ES256' : follows.alg;
}

/** Appends a new next key, published now, with a kid the set does not have yet. */
function addNext(entries: Entry[], alg: GeneratedAlg, now: Date, generate: typeof generateJwk): KeyChange {
  const kids = new Set(entries.map((entry) => entry.kid));
  let jwk = generate(alg);
  while (kids.has(String(jwk.kid))) jwk = generate(alg);
  const kid = String(jwk.kid);
  jwk.published_at = iso(now);
  entries.push({ jwk, state: 'next', alg, kid });
  return { action: 'added', kid, alg, from: null, to: 'next' };
}

/**
 * Plans one rotation of a JWK Set document. A set that is not a valid key set (as the service
 * would load it) throws KeySetError: a scheduled job must refuse a broken set, never "fix" it.
 */
export function planRotation(text: string, rules: RotationRules, generate: typeof generateJwk = generateJwk): RotationPlan {
  const set = parseKeySet(text, { allowHs256: rules.allowHs256 });
  // parseKeySet accepted it: JSON, an object with a non-empty keys array of JWK objects.
  const document = JSON.parse(text) as { keys: JsonWebKey[] } & Record<string, unknown>;
  const entries: Entry[] = document.keys.map((jwk) => {
    const key = set.byKid.get(String(jwk.kid))!;
    return { jwk: { ...jwk }, state: key.state, alg: key.alg, kid: key.kid };
  });
  const summary = (): KeySummary[] => entries.map(({ kid, state, alg }) => ({ kid, state, alg }));
  const before = summary();
  const now = rules.now;
  const changes: KeyChange[] = [];
  let justRetired: Entry | undefined;

  const nexts = entries.filter((entry) => entry.state === 'next');
  if (nexts.length > 1) throw new RotationRefused(`${nexts.length} keys are next (${nexts.map((entry) => entry.kid).join(', ')}): a rotation promotes one; keep one of them`);
  const next = nexts[0];
  const later = (seconds: number): string => iso(new Date(now.getTime() + seconds * 1000));

  if (!next) {
    changes.push(addNext(entries, rules.alg ?? successorAlg(entries.find((entry) => entry.state === 'active')!), now, generate));
  } else {
    const published = keyTime(next.jwk, 'published_at');
    // (parseKeySet refused an invalid time: anything but a Date here is a missing one.)
    if (!(published instanceof Date)) {
      // Added by hand: it may have been published a moment ago, so it waits a full JWKS_MAX_AGE.
      next.jwk.published_at = iso(now);
      changes.push({ action: 'stamped', kid: next.kid, from: 'next', to: 'next', until: later(rules.nextMinAgeSec) });
    } else {
      const promotableAt = new Date(published.getTime() + rules.nextMinAgeSec * 1000);
      if (promotableAt > now) {
        throw new RotationRefused(
          `next key ${next.kid} was published at ${iso(published)}, less than JWKS_MAX_AGE (${rules.nextMinAgeSec}s) ago: resource services may not hold it yet; rotate again from ${iso(promotableAt)}`,
        );
      }
      const active = entries.find((entry) => entry.state === 'active')!;
      next.state = 'active';
      changes.push({ action: 'promoted', kid: next.kid, from: 'next', to: 'active' });
      active.state = 'retired';
      active.jwk.retired_at = iso(now);
      justRetired = active;
      changes.push({ action: 'retired', kid: active.kid, from: 'active', to: 'retired' });
      changes.push(addNext(entries, rules.alg ?? successorAlg(next), now, generate));
    }
  }

  // Retired keys whose tokens have all expired go; the key retired by this run is not judged in it.
  for (const entry of [...entries]) {
    if (entry.state !== 'retired' || entry === justRetired) continue;
    const retired = keyTime(entry.jwk, 'retired_at');
    if (retired instanceof Date) {
      if (now.getTime() - retired.getTime() >= rules.retiredLifetimeSec * 1000) {
        entries.splice(entries.indexOf(entry), 1);
        changes.push({ action: 'removed', kid: entry.kid, from: 'retired', to: null, retiredAt: iso(retired) });
      }
    } else {
      // Retired by hand, at a time nobody wrote down: it may have signed until a moment ago.
      entry.jwk.retired_at = iso(now);
      changes.push({ action: 'stamped', kid: entry.kid, from: 'retired', to: 'retired', until: later(rules.retiredLifetimeSec) });
    }
  }

  // Every key names its state: a set of one key may leave it out, a set of two may not.
  const output = `${JSON.stringify({ ...document, keys: entries.map((entry) => ({ ...entry.jwk, state: entry.state })) }, null, 2)}\n`;
  parseKeySet(output, { allowHs256: rules.allowHs256 });
  return { text: output, before, after: summary(), changes };
}
