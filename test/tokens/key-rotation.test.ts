import type { JsonWebKey } from 'node:crypto';
import { generateJwk } from '../../src/tokens/generate';
import { KeySetError } from '../../src/tokens/jwk';
import { planRotation, RotationRefused, type RotationRules } from '../../src/tokens/key-rotation';
import { parseKeySet } from '../../src/tokens/keyring';

// `portcullis keys rotate`, one step at a time (README "Signing keys and rotation"): next → active
// → retired → removed, with the waits that keep every token verifiable.

const T0 = new Date('2026-01-05T03:00:00Z');
const TTL = 900; // ACCESS_TOKEN_TTL
const MAX_AGE = 300; // JWKS_MAX_AGE
const at = (secondsAfterT0: number): Date => new Date(T0.getTime() + secondsAfterT0 * 1000);
const rules = (now: Date, more: Partial<RotationRules> = {}): RotationRules => ({ now, retiredLifetimeSec: TTL + MAX_AGE, nextMinAgeSec: MAX_AGE, allowHs256: false, ...more });
const set = (...keys: object[]): string => JSON.stringify({ keys });
const keysOf = (text: string): Array<JsonWebKey & { kid: string; state: string }> => (JSON.parse(text) as { keys: Array<JsonWebKey & { kid: string; state: string }> }).keys;
const states = (text: string): Record<string, string> => Object.fromEntries(keysOf(text).map((key) => [key.kid, key.state]));

describe('one rotation of the signing keys', () => {
  it('only adds a next key when the set has none: published before it ever signs', () => {
    const plan = planRotation(set(generateJwk('ES256', 'a')), rules(T0));
    const [added] = plan.changes;
    expect(plan.changes).toEqual([{ action: 'added', kid: expect.any(String), alg: 'ES256', from: null, to: 'next' }]);
    // The one key had no state ("the key"); in a set of two it must say it is the active one.
    expect(states(plan.text)).toEqual({ a: 'active', [added!.kid]: 'next' });
    expect(keysOf(plan.text)[1]).toMatchObject({ published_at: '2026-01-05T03:00:00Z', d: expect.any(String) });
    expect(plan.before).toEqual([{ kid: 'a', state: 'active', alg: 'ES256' }]);
    expect(plan.after).toEqual([
      { kid: 'a', state: 'active', alg: 'ES256' },
      { kid: added!.kid, state: 'next', alg: 'ES256' },
    ]);
    // What the service makes of it: still signing with a, publishing both.
    const loaded = parseKeySet(plan.text);
    expect(loaded.active.kid).toBe('a');
    expect(loaded.jwks.keys.map((key) => key.kid)).toEqual(['a', added!.kid]);
  });

  it('promotes next to active, retires the active key and adds a new next', () => {
    const first = planRotation(set(generateJwk('EdDSA', 'a', 'active')), rules(T0));
    const b = first.changes[0]!.kid;
    const plan = planRotation(first.text, rules(at(MAX_AGE)));
    const c = plan.changes.find((change) => change.action === 'added')!.kid;
    expect(plan.changes).toEqual([
      { action: 'promoted', kid: b, from: 'next', to: 'active' },
      { action: 'retired', kid: 'a', from: 'active', to: 'retired' },
      // The new key keeps the algorithm of the one it follows.
      { action: 'added', kid: c, alg: 'EdDSA', from: null, to: 'next' },
    ]);
    expect(states(plan.text)).toEqual({ a: 'retired', [b]: 'active', [c]: 'next' });
    expect(keysOf(plan.text)[0]).toMatchObject({ kid: 'a', retired_at: '2026-01-05T03:05:00Z' });
    expect(parseKeySet(plan.text).active.kid).toBe(b);
  });

  it('generates the new key with --alg when given', () => {
    const plan = planRotation(set(generateJwk('ES256', 'a')), rules(T0, { alg: 'RS256' }));
    expect(plan.changes[0]).toMatchObject({ action: 'added', alg: 'RS256' });
    expect(keysOf(plan.text)[1]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
  });

  it('refuses to promote a next key published less than JWKS_MAX_AGE ago: caches may not hold it', () => {
    const first = planRotation(set(generateJwk('ES256', 'a')), rules(T0));
    expect(() => planRotation(first.text, rules(at(MAX_AGE - 1)))).toThrow(RotationRefused);
    expect(() => planRotation(first.text, rules(at(MAX_AGE - 1)))).toThrow(/published at 2026-01-05T03:00:00Z, less than JWKS_MAX_AGE \(300s\) ago.*rotate again from 2026-01-05T03:05:00Z/);
    expect(planRotation(first.text, rules(at(MAX_AGE))).changes[0]).toMatchObject({ action: 'promoted' });
  });

  it('drops retired keys older than ACCESS_TOKEN_TTL + JWKS_MAX_AGE, and keeps younger ones', () => {
    let text = planRotation(set(generateJwk('ES256', 'a')), rules(T0)).text;
    text = planRotation(text, rules(at(MAX_AGE))).text; // a retired at T0 + 300
    const b = Object.entries(states(text)).find(([, state]) => state === 'active')![0];
    // Too soon for a: a token it signed just before may still be valid.
    const early = planRotation(text, rules(at(MAX_AGE + TTL + MAX_AGE - 1)));
    expect(early.changes.map((change) => change.action)).toEqual(['promoted', 'retired', 'added']);
    expect(states(early.text)).toMatchObject({ a: 'retired', [b]: 'retired' });
    // From a's retirement + ACCESS_TOKEN_TTL + JWKS_MAX_AGE on, a goes; b, retired now, stays.
    const late = planRotation(text, rules(at(MAX_AGE + TTL + MAX_AGE)));
    expect(late.changes).toContainEqual({ action: 'removed', kid: 'a', from: 'retired', to: null, retiredAt: '2026-01-05T03:05:00Z' });
    expect(Object.keys(states(late.text))).not.toContain('a');
    expect(states(late.text)[b]).toBe('retired');
    expect(late.after).toHaveLength(3);
  });

  it('keeps a key retired without a timestamp and stamps it now, so it goes one rotation later', () => {
    const text = set(generateJwk('ES256', 'old', 'retired'), generateJwk('ES256', 'a', 'active'));
    const plan = planRotation(text, rules(T0));
    expect(plan.changes).toContainEqual({ action: 'stamped', kid: 'old', from: 'retired', to: 'retired', until: '2026-01-05T03:20:00Z' });
    expect(keysOf(plan.text)[0]).toMatchObject({ kid: 'old', state: 'retired', retired_at: '2026-01-05T03:00:00Z' });
    const next = planRotation(plan.text, rules(at(TTL + MAX_AGE)));
    expect(next.changes).toContainEqual(expect.objectContaining({ action: 'removed', kid: 'old' }));
  });

  it('times a next key added by hand from now instead of promoting it at once', () => {
    const text = set(generateJwk('ES256', 'a', 'active'), generateJwk('ES256', 'b', 'next'));
    const plan = planRotation(text, rules(T0));
    expect(plan.changes).toEqual([{ action: 'stamped', kid: 'b', from: 'next', to: 'next', until: '2026-01-05T03:05:00Z' }]);
    expect(states(plan.text)).toEqual({ a: 'active', b: 'next' });
    expect(planRotation(plan.text, rules(at(MAX_AGE))).changes[0]).toEqual({ action: 'promoted', kid: 'b', from: 'next', to: 'active' });
  });

  it('keeps the rest of the document and every member of the keys', () => {
    const a = { ...generateJwk('RS256', 'a', 'active'), x5c_note: 'kept' };
    const plan = planRotation(JSON.stringify({ comment: 'managed by cron', keys: [a] }), rules(T0));
    const document = JSON.parse(plan.text) as { comment: string; keys: JsonWebKey[] };
    expect(document.comment).toBe('managed by cron');
    expect(document.keys[0]).toEqual({ ...a, state: 'active' });
  });

  it('never publishes the timestamps', () => {
    let text = planRotation(set(generateJwk('ES256', 'a')), rules(T0)).text;
    text = planRotation(text, rules(at(MAX_AGE))).text;
    for (const key of parseKeySet(text).jwks.keys) {
      expect(key).not.toHaveProperty('published_at');
      expect(key).not.toHaveProperty('retired_at');
    }
  });

  it.each([
    ['not JSON', '{"keys": [', /not JSON/],
    ['an empty set', '{"keys": []}', /at least one key/],
    ['two active keys', set(generateJwk('ES256', 'a', 'active'), generateJwk('ES256', 'b', 'active')), /exactly one key must be active/],
    ['a next key without its private part', set(generateJwk('ES256', 'a', 'active'), { ...generateJwk('ES256', 'b', 'next'), d: undefined }), /needs its private part/],
    ['a timestamp that is not one', set(generateJwk('ES256', 'a', 'active'), { ...generateJwk('ES256', 'b', 'retired'), retired_at: 'last tuesday' }), /retired_at must be an ISO 8601 time/],
  ])('refuses %s instead of fixing it', (_, text, message) => {
    expect(() => planRotation(text, rules(T0))).toThrow(KeySetError);
    expect(() => planRotation(text, rules(T0))).toThrow(message);
  });

  it('refuses a set with two next keys: which to promote is a person’s choice', () => {
    const text = set(generateJwk('ES256', 'a', 'active'), generateJwk('ES256', 'b', 'next'), generateJwk('ES256', 'c', 'next'));
    expect(() => planRotation(text, rules(T0))).toThrow(new RotationRefused('2 keys are next (b, c): a rotation promotes one; keep one of them'));
  });

  it('follows an HS256 key (ALLOW_HS256) with an ES256 one: only asymmetric keys are generated', () => {
    const secret = { kty: 'oct', kid: 'h', k: Buffer.alloc(32, 7).toString('base64url'), state: 'active' };
    const plan = planRotation(set(secret), rules(T0, { allowHs256: true }));
    expect(plan.changes[0]).toMatchObject({ action: 'added', alg: 'ES256' });
  });
});
