import { QueueFullError, QueueShareExceededError, RequestAbortedError, Semaphore } from '../../src/identity/semaphore';

/** A task that runs until released, and records that it started. */
function held(started: string[], name: string): { task: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('semaphore: the argon2 queue', () => {
  it('runs at most `limit` at once and hands slots on in FIFO order', async () => {
    const gate = new Semaphore(1, 10);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => held(started, name));
    const results = tasks.map(({ task }) => gate.run(task));
    await settle();
    expect(started).toEqual(['a']);
    expect([gate.running, gate.pending]).toEqual([1, 3]);
    for (const [index, { release }] of tasks.entries()) {
      release();
      await settle();
      expect(started).toEqual(['a', 'b', 'c', 'd'].slice(0, Math.min(index + 2, 4)));
    }
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect([gate.running, gate.pending]).toEqual([0, 0]);
  });

  it('refuses work beyond the queue bound with QueueFullError', async () => {
    const gate = new Semaphore(1, 1);
    const started: string[] = [];
    const first = held(started, 'first');
    const running = gate.run(first.task);
    const queued = gate.run(async () => 'queued');
    await expect(gate.run(async () => 'overflow')).rejects.toBeInstanceOf(QueueFullError);
    first.release();
    await expect(Promise.all([running, queued])).resolves.toEqual(['first', 'queued']);
  });

  it('drops a waiting task whose signal aborts: it never runs, and the queue closes up behind it', async () => {
    const gate = new Semaphore(1, 10);
    const started: string[] = [];
    const first = held(started, 'first');
    const running = gate.run(first.task);
    const controller = new AbortController();
    const abandoned = gate.run(async () => {
      started.push('abandoned');
      return 'abandoned';
    }, { signal: controller.signal, owner: '192.0.2.1' });
    const after = gate.run(async () => {
      started.push('after');
      return 'after';
    }, { owner: '192.0.2.1' });
    expect([gate.pending, gate.pendingFor('192.0.2.1')]).toEqual([2, 2]);

    controller.abort();
    await expect(abandoned).rejects.toBeInstanceOf(RequestAbortedError);
    // Gone at once, before the running task ends: its place and its owner's count are free.
    expect([gate.pending, gate.pendingFor('192.0.2.1')]).toEqual([1, 1]);

    first.release();
    await expect(Promise.all([running, after])).resolves.toEqual(['first', 'after']);
    expect(started).toEqual(['first', 'after']);
    expect([gate.running, gate.pending, gate.pendingFor('192.0.2.1')]).toEqual([0, 0, 0]);
  });

  it('drops waiters from the middle and the end of the queue, keeping the others in order', async () => {
    const gate = new Semaphore(1, 10);
    const started: string[] = [];
    const first = held(started, 'first');
    const running = gate.run(first.task);
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const waiting = controllers.map((controller, index) =>
      gate.run(async () => {
        started.push(`w${index}`);
        return index;
      }, { signal: controller.signal }),
    );
    for (const index of [4, 2, 0]) controllers[index]!.abort();
    expect(gate.pending).toBe(2);
    first.release();
    const outcomes = await Promise.allSettled([running, ...waiting]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(started).toEqual(['first', 'w1', 'w3']);
    expect([gate.running, gate.pending]).toEqual([0, 0]);
  });

  it('never starts a task whose signal aborted before it asked, even with a slot free', async () => {
    const gate = new Semaphore(2, 10);
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    await expect(gate.run(async () => void (ran = true), { signal: controller.signal })).rejects.toBeInstanceOf(RequestAbortedError);
    expect(ran).toBe(false);
    expect([gate.running, gate.pending]).toEqual([0, 0]);
  });

  it('does not start a task whose signal aborted after its slot was handed over, and passes the slot on', async () => {
    const gate = new Semaphore(1, 10);
    const started: string[] = [];
    // A signal that turns aborted without an event: what the waiter sees when the abort lands
    // between the slot reaching it and its task starting (its listener is gone by then).
    const signal = Object.assign(new EventTarget(), { aborted: false }) as unknown as AbortSignal & { aborted: boolean };
    const running = gate.run(async () => {
      started.push('first');
      await settle();
      signal.aborted = true;
    });
    const handedOver = gate.run(async () => void started.push('handed-over'), { signal });
    const next = gate.run(async () => void started.push('next'));
    await expect(handedOver).rejects.toBeInstanceOf(RequestAbortedError);
    await Promise.all([running, next]);
    expect(started).toEqual(['first', 'next']);
    expect([gate.running, gate.pending]).toEqual([0, 0]);
  });

  it('does not interrupt a running task when its signal aborts', async () => {
    const gate = new Semaphore(1, 10);
    const started: string[] = [];
    const controller = new AbortController();
    const task = held(started, 'running');
    const running = gate.run(task.task, { signal: controller.signal });
    await settle();
    controller.abort();
    task.release();
    await expect(running).resolves.toBe('running');
    expect(gate.running).toBe(0);
  });

  it('holds one owner to its share of the waiting places; others and owner-less work still queue', async () => {
    const gate = new Semaphore(1, 10, 2);
    const started: string[] = [];
    const first = held(started, 'first');
    const running = gate.run(first.task, { owner: 'A' });
    // A running task holds no waiting place: A may still queue two.
    const a1 = gate.run(async () => 'a1', { owner: 'A' });
    const a2 = gate.run(async () => 'a2', { owner: 'A' });
    const refused = gate.run(async () => 'a3', { owner: 'A' });
    await expect(refused).rejects.toBeInstanceOf(QueueShareExceededError);
    await expect(refused).rejects.toMatchObject({ owner: 'A' });
    const b1 = gate.run(async () => 'b1', { owner: 'B' });
    const anonymous = [1, 2, 3].map((n) => gate.run(async () => `x${n}`));
    expect([gate.pending, gate.pendingFor('A'), gate.pendingFor('B')]).toEqual([6, 2, 1]);

    first.release();
    await expect(Promise.all([running, a1, a2, b1, ...anonymous])).resolves.toEqual(['first', 'a1', 'a2', 'b1', 'x1', 'x2', 'x3']);
    // Once A's entries left the queue, A has its share again.
    await expect(gate.run(async () => 'a4', { owner: 'A' })).resolves.toBe('a4');
    expect([gate.running, gate.pending, gate.pendingFor('A'), gate.pendingFor('B')]).toEqual([0, 0, 0, 0]);
  });

  it('gives an owner its share back when one of its waiters aborts', async () => {
    const gate = new Semaphore(1, 10, 1);
    const started: string[] = [];
    const first = held(started, 'first');
    const running = gate.run(first.task);
    const controller = new AbortController();
    const abandoned = gate.run(async () => 'abandoned', { owner: 'A', signal: controller.signal });
    await expect(gate.run(async () => 'refused', { owner: 'A' })).rejects.toBeInstanceOf(QueueShareExceededError);
    controller.abort();
    await expect(abandoned).rejects.toBeInstanceOf(RequestAbortedError);
    const retried = gate.run(async () => 'retried', { owner: 'A' });
    first.release();
    await expect(Promise.all([running, retried])).resolves.toEqual(['first', 'retried']);
  });

  it('counts rightly through a churn of aborts, refusals and completions', async () => {
    const gate = new Semaphore(2, 50, 5);
    const runs: Array<Promise<unknown>> = [];
    let ran = 0;
    let refused = 0;
    for (let i = 0; i < 200; i += 1) {
      const controller = new AbortController();
      const owner = `owner-${i % 7}`;
      const run = gate.run(async () => {
        ran += 1;
        await settle();
      }, { owner, signal: controller.signal });
      runs.push(run.catch((error: unknown) => {
        if (error instanceof QueueShareExceededError || error instanceof QueueFullError) refused += 1;
        else if (!(error instanceof RequestAbortedError)) throw error;
      }));
      if (i % 3 === 0) controller.abort();
      expect(gate.running).toBeLessThanOrEqual(2);
      expect(gate.pending).toBeLessThanOrEqual(35); // 7 owners × 5 places
      if (i % 10 === 0) await settle();
    }
    await Promise.all(runs);
    expect(ran).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect([gate.running, gate.pending]).toEqual([0, 0]);
    for (let owner = 0; owner < 7; owner += 1) expect(gate.pendingFor(`owner-${owner}`)).toBe(0);
  });
});
