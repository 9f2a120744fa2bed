import { sharedScrape } from '../../src/metrics/shared-scrape';

// The cluster primary's scrapes (cluster/primary.ts): one collection at a time, reused for a second.

describe('sharedScrape', () => {
  function counting() {
    let calls = 0;
    let release: (() => void) | undefined;
    const source = {
      contentType: 'text/plain',
      metrics: () =>
        new Promise<string>((resolve) => {
          calls += 1;
          const n = calls;
          release = () => resolve(`collection ${n}`);
        }),
    };
    return { source, calls: () => calls, release: () => release?.() };
  }

  it('a scrape during a running collection waits for it instead of starting another', async () => {
    const clock = { now: 0 };
    const inner = counting();
    const shared = sharedScrape(inner.source, 1000, () => clock.now);
    const first = shared.metrics();
    const second = shared.metrics();
    expect(inner.calls()).toBe(1);
    inner.release();
    await expect(Promise.all([first, second])).resolves.toEqual(['collection 1', 'collection 1']);
  });

  it('answers with the last collection while it is younger than maxAgeMs, then collects again', async () => {
    const clock = { now: 0 };
    const inner = counting();
    const shared = sharedScrape(inner.source, 1000, () => clock.now);
    const first = shared.metrics();
    inner.release();
    await first;
    clock.now = 999;
    await expect(shared.metrics()).resolves.toBe('collection 1');
    expect(inner.calls()).toBe(1);
    clock.now = 1000;
    const next = shared.metrics();
    expect(inner.calls()).toBe(2);
    inner.release();
    await expect(next).resolves.toBe('collection 2');
  });

  it('a failed collection is not kept: the next scrape collects again', async () => {
    let calls = 0;
    const shared = sharedScrape({ contentType: 'text/plain', metrics: async () => { calls += 1; if (calls === 1) throw new Error('worker gone'); return 'ok'; } }, 1000, () => 0);
    await expect(shared.metrics()).rejects.toThrow('worker gone');
    await expect(shared.metrics()).resolves.toBe('ok');
    expect(calls).toBe(2);
  });
});
