import type { ThrottleKeys, ThrottleSettings, ThrottleStore } from '../../src/store/throttle';

// The throttle store contract, on a controlled clock (times are the caller's, in ms). Every
// backend runs it (test/store/throttle.contract.test.ts): in-process, standalone Redis, the run's
// Redis Cluster and its Sentinel deployment.
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

export type ThrottleFactory = () => Promise<{ throttle: ThrottleStore; close(): Promise<void> }>;

/** Defines the contract's tests for one backend; `factory` gives each test a fresh, empty store. */
export function throttleContract(backend: string, factory: ThrottleFactory): void {
  describe(`throttle store contract (${backend})`, () => {
    let throttle: ThrottleStore;
    let close: () => Promise<void>;
    let now: number;
    let n = 0;
    const keys = (subject = `alice${n}`, address = `10.0.0.${n}`): ThrottleKeys => ({ subject, address });

    beforeEach(async () => {
      ({ throttle, close } = await factory());
      now = Date.UTC(2026, 0, 1);
      n += 1;
    });
    afterEach(async () => close());

    /** `times` attempts that all fail (each is charged when let through). */
    const fail = async (k: ThrottleKeys, times: number, settings = NO_ADDRESS_LIMIT) => {
      let last;
      for (let i = 0; i < times; i += 1) last = await throttle.attempt(k, settings, now);
      return last!;
    };

    it('lets a pair try until the threshold of consecutive failures, then refuses it for the base period', async () => {
      const k = keys();
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: true, pairFailures: 1, pairLockedUntil: 0, addressRemaining: Number.POSITIVE_INFINITY });
      expect(await fail(k, 8)).toMatchObject({ allowed: true, pairFailures: 9, pairLockedUntil: 0 });
      // The tenth is let through (it may be the right password), and starts the lock.
      expect(await fail(k, 1)).toMatchObject({ allowed: true, pairFailures: 10, pairLockedUntil: now + MINUTE });
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now)).toEqual({ allowed: false, reason: 'pair_locked', retryAfterMs: MINUTE });
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now + MINUTE - 1)).toEqual({ allowed: false, reason: 'pair_locked', retryAfterMs: 1 });
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now + MINUTE)).toMatchObject({ allowed: true, pairFailures: 11 });
    });

    it('charges concurrent attempts atomically: no more than the threshold get through at once', async () => {
      const k = keys();
      const verdicts = await Promise.all(Array.from({ length: 30 }, () => throttle.attempt(k, NO_ADDRESS_LIMIT, now)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    });

    it('doubles the refusal with each further failure, up to the cap', async () => {
      const k = keys();
      await fail(k, 10);
      const periods: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const refused = await throttle.attempt(k, NO_ADDRESS_LIMIT, now);
        if (!refused.allowed) now += refused.retryAfterMs;
        const verdict = await throttle.attempt(k, NO_ADDRESS_LIMIT, now);
        if (!verdict.allowed) throw new Error('refused after the lock ended');
        periods.push((verdict.pairLockedUntil - now) / MINUTE);
      }
      expect(periods).toEqual([2, 4, 8, 15, 15, 15]);
    });

    it('forgets a pair on success (its lock too), and keeps pairs, addresses and subjects apart', async () => {
      const k = keys();
      await fail(k, 10);
      expect((await throttle.attempt({ ...k, address: `${k.address}9` }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true); // the owner elsewhere
      expect((await throttle.attempt({ ...k, subject: `${k.subject}-other` }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true); // another user here
      await throttle.settle(k, 'succeeded', NO_ADDRESS_LIMIT, now);
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now)).toMatchObject({ allowed: true, pairFailures: 1, pairLockedUntil: 0 });
    });

    it('takes back a cancelled attempt, and the lock it started when that leaves the pair under the threshold', async () => {
      const k = keys();
      await fail(k, 10);
      await throttle.settle(k, 'cancelled', NO_ADDRESS_LIMIT, now);
      expect(await throttle.attempt(k, NO_ADDRESS_LIMIT, now)).toMatchObject({ allowed: true, pairFailures: 10, pairLockedUntil: now + MINUTE });
    });

    it('forgets a pair\'s failures after its memory period', async () => {
      const k = keys();
      await fail(k, 5);
      now += SETTINGS.pairMemoryMs;
      expect(await fail(k, 1)).toMatchObject({ allowed: true, pairFailures: 1 });
    });

    it('refuses an address whose bucket of failures is empty, across subjects, and refills it over time', async () => {
      const address = `10.1.0.${n}`;
      let last;
      for (let i = 0; i < 100; i += 1) last = await throttle.attempt({ subject: `user${i}`, address }, SETTINGS, now);
      expect(last).toMatchObject({ allowed: true, addressRemaining: 0 });
      expect(await throttle.attempt({ subject: 'fresh', address }, SETTINGS, now)).toEqual({ allowed: false, reason: 'address_exhausted', retryAfterMs: 36_000 }); // one per 36 s
      expect((await throttle.attempt({ subject: 'fresh', address: `${address}0` }, SETTINGS, now)).allowed).toBe(true);
      now += 36_000;
      expect(await throttle.attempt({ subject: 'fresh', address }, SETTINGS, now)).toMatchObject({ allowed: true, addressRemaining: 0 });
      expect((await throttle.attempt({ subject: 'fresh', address }, SETTINGS, now)).allowed).toBe(false);
      now += HOUR;
      expect(await throttle.attempt({ subject: 'fresh', address }, SETTINGS, now)).toMatchObject({ allowed: true, addressRemaining: 99 });
    });

    it('gives the address its token back for an attempt that succeeded or was cancelled', async () => {
      const address = `10.4.0.${n}`;
      const settings = { ...SETTINGS, addressCapacity: 2 };
      const a = { subject: 'a', address };
      await throttle.attempt(a, settings, now);
      await throttle.settle(a, 'succeeded', settings, now);
      await throttle.attempt(a, settings, now);
      await throttle.settle(a, 'cancelled', settings, now);
      expect(await throttle.attempt(a, settings, now)).toMatchObject({ allowed: true, addressRemaining: 1 });
    });

    it('with no address limit, never refuses an address', async () => {
      const address = `10.2.0.${n}`;
      for (let i = 0; i < 150; i += 1) await throttle.attempt({ subject: `user${i}`, address }, NO_ADDRESS_LIMIT, now);
      expect((await throttle.attempt({ subject: 'fresh', address }, NO_ADDRESS_LIMIT, now)).allowed).toBe(true);
    });

    it('counts a subject\'s failures from every address in a window', async () => {
      const subject = `target${n}`;
      let count = 0;
      for (let i = 0; i < 60; i += 1) count = await throttle.countSubjectFailure({ subject, address: `10.3.${n}.${i}` }, SETTINGS, now);
      expect(count).toBe(60);
      expect((await throttle.attempt({ subject, address: '10.9.9.9' }, SETTINGS, now)).allowed).toBe(true);
      now += SETTINGS.subjectWindowMs;
      expect(await throttle.countSubjectFailure({ subject, address: '10.3.0.1' }, SETTINGS, now)).toBe(1);
    });

    it('with a pair threshold of 0, never refuses a pair', async () => {
      const k = keys();
      const off = { ...NO_ADDRESS_LIMIT, pairThreshold: 0 };
      await fail(k, 30, off);
      expect(await throttle.attempt(k, off, now)).toMatchObject({ allowed: true, pairFailures: 31, pairLockedUntil: 0 });
    });
  });
}
