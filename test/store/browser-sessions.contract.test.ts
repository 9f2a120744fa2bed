import type { BrowserSession, BrowserSessionStore } from '../../src/store/browser-sessions';
import type { StoreConnection } from '../../src/store/connection';
import { newBrowserSessionCookie } from '../../src/tokens/browser-session-cookie';
import { createTestStores, storeContractKinds, uniqueName } from '../support/env';

const MIN = 60_000;
const IDLE = 30 * MIN;
const ABSOLUTE = 8 * 60 * MIN;

// One contract, every backend: the hosted login page's sign-ins, known by the hash of their cookie.
describe.each(storeContractKinds())('browser session contract (%s)', (kind) => {
  let storage: StoreConnection;
  let sessions: BrowserSessionStore;
  let now: number;
  let userId: string;

  beforeEach(async () => {
    ({ storage, browserSessions: sessions } = await createTestStores(kind));
    now = 1_800_000_000_000;
    userId = uniqueName('user-');
  });
  afterEach(async () => storage.close());

  async function signIn(user = userId, absoluteTtlMs = ABSOLUTE): Promise<string> {
    const { id } = newBrowserSessionCookie(user);
    await sessions.createBrowserSession({ id, userId: user, absoluteExpiresAt: now + absoluteTtlMs, idleTtlMs: IDLE }, now);
    return id;
  }

  it('starts a session: authenticated, created and seen now; idle end now + idle lifetime', async () => {
    const id = await signIn();
    const expected: BrowserSession = { id, userId, createdAt: now, authenticatedAt: now, lastSeenAt: now, absoluteExpiresAt: now + ABSOLUTE, idleExpiresAt: now + IDLE };
    expect(await sessions.touchBrowserSession(id, IDLE, now)).toEqual(expected);
  });

  it('starts a session whose absolute end comes before its idle one with the absolute end as idle end', async () => {
    const id = await signIn(userId, 10 * MIN);
    expect((await sessions.touchBrowserSession(id, IDLE, now))?.idleExpiresAt).toBe(now + 10 * MIN);
  });

  it('refuses a session whose id does not end with its user\'s tag (on a cluster it would cross slots)', async () => {
    const { id } = newBrowserSessionCookie(userId);
    let other = uniqueName('user-');
    while (newBrowserSessionCookie(other).id.slice(-2) === id.slice(-2)) other = uniqueName('user-');
    await expect(sessions.createBrowserSession({ id, userId: other, absoluteExpiresAt: now + ABSOLUTE, idleTtlMs: IDLE }, now)).rejects.toThrow(/tag/);
    expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeUndefined();
  });

  it('knows no session by an id it never started', async () => {
    expect(await sessions.touchBrowserSession(newBrowserSessionCookie(userId).id, IDLE, now)).toBeUndefined();
    expect(await sessions.endBrowserSession(newBrowserSessionCookie(userId).id, now)).toBeUndefined();
    expect(await sessions.endUserBrowserSessions(userId, now)).toBe(0);
  });

  describe('lifetimes', () => {
    it('each touch slides the idle end to now + idle lifetime and records the visit', async () => {
      const id = await signIn();
      now += 20 * MIN;
      const touched = await sessions.touchBrowserSession(id, IDLE, now);
      expect(touched).toMatchObject({ id, userId, createdAt: now - 20 * MIN, authenticatedAt: now - 20 * MIN, lastSeenAt: now, idleExpiresAt: now + IDLE });
      now += 29 * MIN; // 49 min since sign-in, 29 since the last touch: alive thanks to it
      expect((await sessions.touchBrowserSession(id, IDLE, now))?.idleExpiresAt).toBe(now + IDLE);
    });

    it('ends when idle for the idle lifetime', async () => {
      const id = await signIn();
      now += IDLE - 1;
      expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeDefined();
      now += IDLE;
      expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeUndefined();
      expect(await sessions.touchBrowserSession(id, IDLE, now + MIN)).toBeUndefined();
    });

    it('never slides past the absolute end, and ends there however busy', async () => {
      const id = await signIn();
      const absolute = now + ABSOLUTE;
      for (now += 25 * MIN; now < absolute; now += 25 * MIN) {
        const touched = await sessions.touchBrowserSession(id, IDLE, now);
        expect(touched?.idleExpiresAt).toBe(Math.min(now + IDLE, absolute));
      }
      expect(await sessions.touchBrowserSession(id, IDLE, absolute - 1)).toMatchObject({ idleExpiresAt: absolute });
      expect(await sessions.touchBrowserSession(id, IDLE, absolute)).toBeUndefined();
    });
  });

  describe('ending', () => {
    it('ends one session, returning it as it was; it is gone after', async () => {
      const id = await signIn();
      const kept = await signIn();
      now += MIN;
      await sessions.touchBrowserSession(id, IDLE, now);
      expect(await sessions.endBrowserSession(id, now + 1)).toEqual({ id, userId, createdAt: now - MIN, authenticatedAt: now - MIN, lastSeenAt: now, absoluteExpiresAt: now - MIN + ABSOLUTE, idleExpiresAt: now + IDLE });
      expect(await sessions.touchBrowserSession(id, IDLE, now + 2)).toBeUndefined();
      expect(await sessions.endBrowserSession(id, now + 3)).toBeUndefined();
      expect(await sessions.touchBrowserSession(kept, IDLE, now + 4)).toBeDefined();
      // The ended one is no longer counted among the user's.
      expect(await sessions.endUserBrowserSessions(userId, now + 5)).toBe(1);
    });

    it('ending an expired session returns nothing', async () => {
      const id = await signIn();
      expect(await sessions.endBrowserSession(id, now + IDLE)).toBeUndefined();
    });

    it('ends every session of the user, counting the live ones, and no other user\'s', async () => {
      const mine = [await signIn(), await signIn(), await signIn()];
      const other = uniqueName('user-');
      const theirs = await signIn(other);
      now += 1000;
      await sessions.endBrowserSession(mine[2]!, now);
      expect(await sessions.endUserBrowserSessions(userId, now)).toBe(2);
      for (const id of mine) expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeUndefined();
      expect(await sessions.touchBrowserSession(theirs, IDLE, now)).toMatchObject({ userId: other });
      expect(await sessions.endUserBrowserSessions(userId, now)).toBe(0);
    });

    it('counts only live sessions when ending them all', async () => {
      const early = await signIn(userId, 10 * MIN);
      now += 5 * MIN;
      const late = await signIn();
      now += 10 * MIN; // early is past its absolute end; late is live
      expect(await sessions.endUserBrowserSessions(userId, now)).toBe(1);
      expect(await sessions.touchBrowserSession(late, IDLE, now)).toBeUndefined();
      // Ended, not merely expired: not even a clock from before its end finds it.
      expect(await sessions.touchBrowserSession(early, IDLE, now - 10 * MIN)).toBeUndefined();
    });

    it('a session started after the user\'s sessions were ended lives', async () => {
      await signIn();
      await sessions.endUserBrowserSessions(userId, now);
      const id = await signIn();
      expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeDefined();
      expect(await sessions.endUserBrowserSessions(userId, now)).toBe(1);
    });

    it('ending all racing new sign-ins and touches: whatever was started before is gone', async () => {
      for (let round = 0; round < 10; round += 1) {
        const before = await Promise.all(Array.from({ length: 5 }, () => signIn()));
        const touches = before.map((id) => sessions.touchBrowserSession(id, IDLE, now));
        const [ended] = await Promise.all([sessions.endUserBrowserSessions(userId, now), ...touches]);
        expect(ended).toBe(5);
        for (const id of before) expect(await sessions.touchBrowserSession(id, IDLE, now)).toBeUndefined();
      }
    });
  });
});
