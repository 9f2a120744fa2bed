import { changeUser, endAccessNow, registerUser, removeUser, setUserDisabled, setUserPassword } from '../../src/identity/user-lifecycle';
import { familyPolicy } from '../../src/oauth/refresh-policy';
import { revokeAllSessions } from '../../src/oauth/sessions';
import { newBrowserSessionCookie } from '../../src/tokens/browser-session-cookie';
import { hashRefreshSecret, newFamilyId, newRefreshToken } from '../../src/tokens/refresh-token';
import { createTestDeps, type TestDeps } from '../support/deps';
import { storeKinds, uniqueName } from '../support/env';
import type { FakeClock } from '../support/clock';

const HOUR = 3_600_000;

// Whatever ends a user's access (disable, new password, delete, log out everywhere) also ends
// their browser sign-ins: a browser left signed in would start new logins through the code flow
// without the password.
describe.each(storeKinds())('ending a user\'s access ends their browser sessions (%s)', (store) => {
  let deps: TestDeps;
  let userId: string;
  let username: string;
  let mine: string[];
  let theirs: string;

  beforeAll(async () => {
    deps = await createTestDeps({ store });
  });
  afterAll(async () => deps.cleanup());

  async function signIn(user: string): Promise<string> {
    const { id } = newBrowserSessionCookie(user);
    const now = deps.clock.now();
    await deps.browserSessions.createBrowserSession({ id, userId: user, absoluteExpiresAt: now + 8 * HOUR, idleTtlMs: HOUR }, now);
    return id;
  }

  const live = async (id: string): Promise<boolean> => (await deps.browserSessions.touchBrowserSession(id, HOUR, deps.clock.now())) !== undefined;

  beforeEach(async () => {
    username = uniqueName('user');
    userId = (await registerUser(deps, { username, password: 'a-long-password' })).id;
    mine = [await signIn(userId), await signIn(userId)];
    theirs = await signIn((await registerUser(deps, { username: uniqueName('other'), password: 'a-long-password' })).id);
  });

  async function expectEnded(): Promise<void> {
    for (const id of mine) expect(await live(id)).toBe(false);
    expect(await live(theirs)).toBe(true);
  }

  it('the user\'s epoch outlasts any access token, whatever ACCESS_TOKEN_TTL the writer runs with (a CLI run with a shorter one)', async () => {
    const claims = { jti: uniqueName('jti'), iat: Math.floor(deps.clock.now() / 1000) };
    await setUserDisabled({ ...deps, config: { ...deps.config, accessTokenTtlSec: 30 } }, username, true);
    // A token of the service's (say ACCESS_TOKEN_TTL=1d) issued just before is still revoked
    // long after the writer's 30 s.
    (deps.clock as FakeClock).advanceSeconds(12 * 3600);
    const state = await deps.revocations.revocationState(claims.jti, userId, Math.floor(deps.clock.now() / 1000));
    expect(state.userRevokedBefore).toBeGreaterThanOrEqual(claims.iat * 1000);
  });

  it('disabling the user', async () => {
    await setUserDisabled(deps, username, true);
    await expectEnded();
  });

  it('a new password, even when the login it was changed from is kept', async () => {
    const token = newRefreshToken(newFamilyId(userId));
    await deps.families.createFamily({ id: token.familyId, userId, clientId: 'cli', scope: [], audience: 'https://api', secretHash: hashRefreshSecret(token.secret) }, familyPolicy(deps.config), deps.clock.now());
    await setUserPassword(deps, { id: userId }, 'another-long-password', { keepFamily: token.familyId });
    await expectEnded();
    expect((await deps.families.listFamilies(userId, deps.clock.now())).map((f) => f.id)).toEqual([token.familyId]);
  });

  it('deleting the user', async () => {
    await removeUser(deps, userId);
    await expectEnded();
  });

  it('log out everywhere', async () => {
    await revokeAllSessions(deps, userId);
    await expectEnded();
  });

  it('endAccessNow itself, and a browser session begun after it lives', async () => {
    await endAccessNow(deps, userId);
    await expectEnded();
    expect(await live(await signIn(userId))).toBe(true);
  });

  it('but not a change that keeps access (enabling, a profile edit)', async () => {
    await setUserDisabled(deps, username, false);
    await changeUser(deps, userId, { fullName: 'Someone Else' });
    for (const id of mine) expect(await live(id)).toBe(true);
  });
});
