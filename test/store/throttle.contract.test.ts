import type { ThrottleKeys, ThrottleSettings, ThrottleStore } from '../../src/store/throttle';
import { createTestThrottle, storeKinds } from '../support/env';

// One contract for both backends, on a controlled clock (times are the caller's, in ms).
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SETTINGS: ThrottleSettings = {
  pairThreshold: 10,
  pairBaseLockMs: MINUTE,
  pairMaxLockMs: 15 * MINUTE,
  pairMemoryMs: 24 * HOUR,
  addressCapacity: 100,
  addressRefillPerMs: 100 / HOUR,
  subjectWindowMs: 24 * HOUR,
};
const NO_ADDRESS_LIMIT: ThrottleSettings = { ...SETTINGS, addressCapacity: 0 };

describe.each(storeKinds())('throttle store contract (%s)', (kind) => {
  let throttle: ThrottleStore;
  let close: () => Promise<void>;
  let now: number;
  let n = 0;
  const keys = (subject = `alice${n}`, address = `10.0.0.${n}`): ThrottleKeys => ({ subject, address });

  beforeEach(async () => {
    ({ throttle, close } = await createTestThrottle(kind));
    now = Date.UTC(2026, 0, 1);
    n += 1;
  });
  afterEach(async () => close());

  const fail = (k: ThrottleKeys, times: number, settings = NO_ADDRESS_LIMIT) => (async () => {
    let last;
    for (let i = 0; i < times; i += 1) last = await throttle.recordFailure(k, settings, now);
    return last!;
  })();

  it('lets a pair try until the threshold of consecutive failures, then refuses it for the base period', async () => {
    const k = keys();
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: true, pairFailures: 0 });
    const nine = await fail(k, 9);
    expect(nine).toMatchObject({ pairFailures: 9, pairLockedUntil: 0 });
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: true, pairFailures: 9 });
    const tenth = await fail(k, 1);
    expect(tenth).toMatchObject({ pairFailures: 10, pairLockedUntil: now + MINUTE });
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: false, reason: 'pair_locked', retryAfterMs: MINUTE });
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now + MINUTE - 1)).toEqual({ allowed: false, reason: 'pair_locked', retryAfterMs: 1 });
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now + MINUTE)).toEqual({ allowed: true, pairFailures: 10 });
  });

  it('doubles the refusal with each further failure, up to the cap', async () => {
    const k = keys();
    await fail(k, 10);
    const periods: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const verdict = await throttle.check(k, NO_ADDRESS_LIMIT, now);
      if (!verdict.allowed) now += verdict.retryAfterMs;
      const counts = await throttle.recordFailure(k, NO_ADDRESS_LIMIT, now);
      periods.push((counts.pairLockedUntil - now) / MINUTE);
    }
    expect(periods).toEqual([2, 4, 8, 15, 15, 15]);
  });

  it('forgets a pair on success, and keeps pairs, addresses and subjects apart', async () => {
    const k = keys();
    await fail(k, 10);
    expect((await throttle.check({ ...k, address: `${k.address}9` }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true); // the owner elsewhere
    expect((await throttle.check({ ...k, subject: `${k.subject}-other` }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true); // another user here
    await throttle.recordSuccess(k, now);
    expect(await throttle.check(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: true, pairFailures: 0 });
    expect((await fail(k, 1)).pairFailures).toBe(1);
  });

  it('forgets a pair\'s failures after its memory period', async () => {
    const k = keys();
    await fail(k, 5);
    now += SETTINGS.pairMemoryMs;
    expect((await fail(k, 1)).pairFailures).toBe(1);
  });

  it('refuses an address whose bucket of failures is empty, across subjects, and refills it over time', async () => {
    const address = `10.1.0.${n}`;
    let counts;
    for (let i = 0; i < 100; i += 1) counts = await throttle.recordFailure({ subject: `user${i}`, address }, SETTINGS, now);
    expect(counts!.addressRemaining).toBe(0);
    const verdict = await throttle.check({ subject: 'fresh', address }, SETTINGS, now);
    expect(verdict).toEqual({ allowed: false, reason: 'address_exhausted', retryAfterMs: 36_000 }); // one failure per 36 s
    expect((await throttle.check({ subject: 'fresh', address: `${address}0` }, SETTINGS, now)).allowed).toBe(true);
    now += 36_000;
    expect((await throttle.check({ subject: 'fresh', address }, SETTINGS, now)).allowed).toBe(true);
    expect((await throttle.recordFailure({ subject: 'fresh', address }, SETTINGS, now)).addressRemaining).toBe(0);
    expect((await throttle.check({ subject: 'fresh', address }, SETTINGS, now)).allowed).toBe(false);
    now += HOUR;
    expect((await throttle.recordFailure({ subject: 'fresh', address }, SETTINGS, now)).addressRemaining).toBe(99);
  });

  it('with no address limit, never refuses an address', async () => {
    const address = `10.2.0.${n}`;
    for (let i = 0; i < 150; i += 1) await throttle.recordFailure({ subject: `user${i}`, address }, NO_ADDRESS_LIMIT, now);
    expect((await throttle.check({ subject: 'fresh', address }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true);
  });

  it('counts a subject\'s failures from every address in a window, and never refuses on that count', async () => {
    const subject = `target${n}`;
    let counts;
    for (let i = 0; i < 60; i += 1) counts = await throttle.recordFailure({ subject, address: `10.3.${n}.${i}` }, SETTINGS, now);
    expect(counts!.subjectFailures).toBe(60);
    expect((await throttle.check({ subject, address: '10.9.9.9' }, SETTINGS, now)).allowed).toBe(true);
    now += SETTINGS.subjectWindowMs;
    expect((await throttle.recordFailure({ subject, address: '10.3.0.1' }, SETTINGS, now)).subjectFailures).toBe(1);
  });

  it('with a pair threshold of 0, never refuses a pair', async () => {
    const k = keys();
    const off = { ...NO_ADDRESS_LIMIT, pairThreshold: 0 };
    for (let i = 0; i < 30; i += 1) await throttle.recordFailure(k, off, now);
    expect(await throttle.check(k, off, now)).toEqual({ allowed: true, pairFailures: 30 });
  });
});
