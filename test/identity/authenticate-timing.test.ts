import { authenticate } from '../../src/identity/authenticate';
import { registerUser, setUserDisabled } from '../../src/identity/user-lifecycle';
import type { TestDeps } from '../support/deps';
import { createTestDeps } from '../support/deps';
import { databaseKinds } from '../support/env';

// RFC 6749 §4.3.2: the password grant must resist guessing. A caller that can tell a known
// username from an unknown one by the answer or by its time has the first half of every guess for
// free, so until the password proves right both paths do the same work: one query, one argon2
// verify (a dummy hash for an unknown name). Argon2 runs with the fixture's settings (createTestDeps:
// 8192 KiB, time cost 1), on the real PostgreSQL the global setup starts.

/** Direct scopes of the known users. Reading them costs milliseconds: any read of a known user's
 *  data before the password proves right stands far above the timing noise. */
const MANY_SCOPES = 10_000;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

describe('authenticate: a known username fails like an unknown one (RFC 6749 §4.3.2)', () => {
  let deps: TestDeps;
  const now = () => new Date(deps.clock.now());
  const attempt = (username: string, password: string) => authenticate(deps, username, password, now());

  /** The SQL text (not the bindings: the usernames differ) of every query one attempt sends. */
  const queriesOf = async (username: string, password: string): Promise<string[]> => {
    const seen: string[] = [];
    const onQuery = (query: { sql: string }) => {
      seen.push(query.sql);
    };
    deps.db.on('query', onQuery);
    try {
      await attempt(username, password);
    } finally {
      deps.db.off('query', onQuery);
    }
    return seen;
  };

  beforeAll(async () => {
    deps = await createTestDeps({ db: databaseKinds().at(-1) });
    for (const username of ['known', 'off']) {
      const user = await registerUser(deps, { username, password: `${username}-password`, roles: ['moderator'], scopes: ['items:read'] });
      await deps.db('user_scopes').insert(Array.from({ length: MANY_SCOPES }, (_, i) => ({ user_id: user.id, scope: `bulk${i}:read` })));
    }
    await setUserDisabled(deps, 'off', true);
  });
  afterAll(async () => deps.cleanup());

  it('sends the same single query for an unknown username, a wrong password and a disabled user', async () => {
    const unknown = await queriesOf('nobody-here', 'wrong-password');
    expect(unknown).toHaveLength(1);
    expect(await queriesOf('known', 'wrong-password')).toEqual(unknown);
    expect(await queriesOf('off', 'off-password')).toEqual(unknown);
    expect(await queriesOf('off', 'wrong-password')).toEqual(unknown);
    // Roles and scopes are read once the password is right, and only then.
    expect((await queriesOf('known', 'known-password')).length).toBeGreaterThan(1);
  });

  it('refuses a disabled user with the right password without reading roles or scopes', async () => {
    expect(await attempt('off', 'off-password')).toEqual({ id: expect.any(String), username: 'off', disabled: true });
    expect(await attempt('off', 'wrong-password')).toBeUndefined();
    expect(await attempt('known', 'known-password')).toMatchObject({ username: 'known', disabled: false, roles: ['moderator'] });
  });

  it('takes as long for a known username with a wrong password (or a disabled user) as for an unknown one', async () => {
    const time = async (username: string, password: string): Promise<number> => {
      const start = process.hrtime.bigint();
      await attempt(username, password);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const kinds = [
      ['nobody-here', 'wrong-password'],
      ['known', 'wrong-password'],
      ['off', 'off-password'],
    ] as const;
    // Warm-up: the dummy hash, the connection pool, the JIT.
    for (let i = 0; i < 10; i += 1) for (const [username, password] of kinds) await time(username, password);

    // Interleaved in rotating order, compared pair by pair: load that comes and goes falls on all
    // kinds alike, and the median of the differences ignores the samples a pause hit.
    const SAMPLES = 90;
    const unknown: number[] = [];
    const known: number[] = [];
    const disabled: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const round: number[] = [];
      for (let k = 0; k < kinds.length; k += 1) {
        const index = (i + k) % kinds.length;
        const [username, password] = kinds[index]!;
        round[index] = await time(username, password);
      }
      unknown.push(round[0]!);
      known.push(round[1]! - round[0]!);
      disabled.push(round[2]! - round[0]!);
    }

    // The same work differs by a few hundredths of a millisecond; reading the known user's roles
    // and 10 000 scopes (what the code did before) adds tens. The bound sits between, and
    // grows with the machine's slowness, so a loaded CI machine cannot break it.
    const bound = Math.max(3, 0.5 * median(unknown));
    expect(Math.abs(median(known))).toBeLessThan(bound);
    expect(Math.abs(median(disabled))).toBeLessThan(bound);
  });
});
