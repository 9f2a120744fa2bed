import * as argon2 from 'argon2';
import type { Argon2Settings } from '../../src/config/config';
import { checkPasswordPolicy, phcParams, Passwords, rustArgon2, type Argon2Binding } from '../../src/identity/passwords';
import { QueueFullError, Semaphore } from '../../src/identity/semaphore';

/** The parameters of a PHC string, whatever order the binding writes them in. */
function params(hash: string): Record<string, number> {
  const field = hash.split('$')[3] ?? '';
  return Object.fromEntries(field.split(',').map((pair) => [pair.split('=')[0], Number(pair.split('=')[1])]));
}

const FAST: Argon2Settings = { memoryKib: 8192, timeCost: 1, parallelism: 1, maxConcurrent: 2, maxQueue: 100 };

/** The real binding, with every call recorded. */
function spyBinding(): Argon2Binding & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    hash: async (password, options) => {
      calls.push('hash');
      return rustArgon2.hash(password, options);
    },
    verify: async (hash, password) => {
      calls.push('verify');
      return rustArgon2.verify(hash, password);
    },
    needsRehash: (hash, options) => rustArgon2.needsRehash(hash, options),
  };
}

describe('password hashing (argon2id)', () => {
  it('verifies hashes made by the argon2 package (before the binding switch) without re-hashing them', async () => {
    const passwords = new Passwords(FAST);
    const legacy = await argon2.hash('correct horse', { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 });
    expect(await passwords.check(legacy, 'correct horse')).toEqual({ ok: true });
    expect(await passwords.check(legacy, 'wrong horse')).toEqual({ ok: false });
    expect(await argon2.verify(await passwords.hash('correct horse'), 'correct horse')).toBe(true);
  });

  it('reads PHC parameters in any order, and asks for a re-hash when they differ', () => {
    expect(phcParams('$argon2id$v=19$m=8192,p=1,t=1$c2FsdA$aGFzaA')).toEqual({ type: 'argon2id', m: 8192, t: 1, p: 1 });
    expect(phcParams('garbage')).toBeUndefined();
    const options = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
    expect(rustArgon2.needsRehash('$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA', options)).toBe(false);
    expect(rustArgon2.needsRehash('$argon2id$v=19$m=8192,t=2,p=1$c2FsdA$aGFzaA', options)).toBe(true);
    expect(rustArgon2.needsRehash('$argon2i$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA', options)).toBe(true);
    expect(rustArgon2.needsRehash('not a hash', options)).toBe(true);
  });

  it('hashes with argon2id and the configured parameters', async () => {
    const hash = await new Passwords({ ...FAST, memoryKib: 9216, timeCost: 3 }).hash('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(params(hash)).toEqual({ m: 9216, t: 3, p: 1 });
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const passwords = new Passwords(FAST);
    const hash = await passwords.hash('correct horse');
    await expect(passwords.check(hash, 'correct horse')).resolves.toEqual({ ok: true });
    await expect(passwords.check(hash, 'correct horsf')).resolves.toEqual({ ok: false });
  });

  it('normalises Unicode (NFKC) so the same password typed differently matches', async () => {
    const passwords = new Passwords(FAST);
    const hash = await passwords.hash('ﬁre-password'); // U+FB01 ligature
    await expect(passwords.check(hash, 'fire-password')).resolves.toEqual({ ok: true });
  });

  it('re-hashes a right password when the parameters changed, and only then', async () => {
    const old = await new Passwords({ ...FAST, timeCost: 1 }).hash('correct horse');
    const current = new Passwords({ ...FAST, timeCost: 2 });
    const result = await current.check(old, 'correct horse');
    expect(result.ok).toBe(true);
    expect(params(result.rehashed!)).toEqual({ m: 8192, t: 2, p: 1 });
    expect(await argon2.verify(result.rehashed!, 'correct horse')).toBe(true);
    await expect(current.check(result.rehashed!, 'correct horse')).resolves.toEqual({ ok: true });
    await expect(current.check(old, 'wrong password')).resolves.toEqual({ ok: false });
    // A caller that will refuse the login anyway (a disabled user) asks for no re-hash: a right
    // password then costs what a wrong one costs.
    await expect(current.check(old, 'correct horse', {}, { rehash: false })).resolves.toEqual({ ok: true });
  });

  it('checks an unknown user with one real argon2 verify against a dummy hash', async () => {
    const binding = spyBinding();
    const passwords = new Passwords(FAST, binding);
    const real = await passwords.hash('whatever-pass');
    binding.calls.length = 0;

    await expect(passwords.check(real, 'wrong-password')).resolves.toEqual({ ok: false });
    const wrongPasswordCalls = [...binding.calls];
    binding.calls.length = 0;
    await expect(passwords.checkUnknownUser('wrong-password')).resolves.toBe(false);
    // The first unknown-user check also makes the dummy hash; every check verifies exactly once.
    expect(binding.calls).toEqual(['hash', 'verify']);
    binding.calls.length = 0;
    await passwords.checkUnknownUser('another-guess');
    expect(binding.calls).toEqual(wrongPasswordCalls);
    expect(wrongPasswordCalls).toEqual(['verify']);
  });

  it('treats a malformed stored hash as a failed check', async () => {
    await expect(new Passwords(FAST).check('not-a-hash', 'password1')).resolves.toEqual({ ok: false });
  });

  it('never hashes an over-long password, but still spends a verify on it', async () => {
    const binding = spyBinding();
    const passwords = new Passwords(FAST, binding);
    const hash = await passwords.hash('short-enough');
    binding.calls.length = 0;
    await expect(passwords.check(hash, 'x'.repeat(1025))).resolves.toEqual({ ok: false });
    expect(binding.calls.filter((call) => call === 'verify')).toHaveLength(1);
    await expect(passwords.hash('x'.repeat(1025))).rejects.toThrow(RangeError);
  });

  it('runs at most maxConcurrent hashes at once', async () => {
    let running = 0;
    let peak = 0;
    const slow: Argon2Binding = {
      ...rustArgon2,
      hash: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        return 'h';
      },
    };
    const passwords = new Passwords({ ...FAST, maxConcurrent: 2 }, slow);
    await Promise.all(Array.from({ length: 10 }, () => passwords.hash('password')));
    expect(peak).toBe(2);
  });
});

describe('password policy (NIST SP 800-63B)', () => {
  it.each([
    ['1234567', 8, 'too_short'],
    ['12345678', 8, undefined],
    ['aaaaaaaaaaaa', 12, undefined],
    ['🔑🔑🔑🔑🔑🔑🔑🔑', 8, undefined], // characters, not bytes
    ['x'.repeat(1024), 8, undefined],
    ['x'.repeat(1025), 8, 'too_long'],
    ['é'.repeat(513), 8, 'too_long'], // 1026 bytes
  ])('%p with minimum %p: %p', (password, min, problem) => {
    expect(checkPasswordPolicy(password, min)).toBe(problem);
  });
});

describe('semaphore', () => {
  it('refuses work beyond the queue bound', async () => {
    const gate = new Semaphore(1, 1);
    let release!: () => void;
    const blocker = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = gate.run(async () => 'queued');
    await expect(gate.run(async () => 'overflow')).rejects.toBeInstanceOf(QueueFullError);
    release();
    await blocker;
    await expect(queued).resolves.toBe('queued');
  });
});
