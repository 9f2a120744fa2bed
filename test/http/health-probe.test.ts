import { Health, PROBE_REUSE_MS } from '../../src/http/health';
import type { Deps } from '../../src/deps';
import { createLogger } from '../../src/logging/logger';
import { LogCapture } from '../support/logs';
import { testConfig } from '../support/env';

// Issue 16: /readyz and the metrics share one probe. A probe that hangs (a database that stopped
// answering, READINESS_TIMEOUT_MS above a second) is still one probe, not one per second.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function healthWith(initialPingMs: number) {
  let pingMs = initialPingMs;
  const calls = { database: 0, store: 0 };
  const db = {
    on: () => undefined,
    raw: async () => {
      calls.database += 1;
      await sleep(pingMs);
    },
  };
  const storage = {
    kind: 'memory',
    ping: async () => {
      calls.store += 1;
      await sleep(pingMs);
    },
  };
  const deps = { config: testConfig({ READINESS_TIMEOUT_MS: '5000' }), db, dbKind: 'postgres', storage, log: createLogger('info', new LogCapture()) } as unknown as Pick<Deps, 'config' | 'db' | 'dbKind' | 'storage' | 'log'>;
  return { health: new Health(deps), calls, slowDown: (ms: number) => (pingMs = ms) };
}

describe('the shared readiness probe', () => {
  it('runs one probe while one is in flight, however long it takes, and reuses its result for a second', async () => {
    const { health, calls } = healthWith(2500);
    const answers: Array<Promise<unknown>> = [];
    for (let i = 0; i < 25; i += 1) {
      answers.push(health.check());
      await sleep(100);
    }
    await Promise.all(answers);
    expect(calls).toEqual({ database: 1, store: 1 });
    // Within the reuse window: no new probe; past it: one more.
    await health.check();
    expect(calls.database).toBe(1);
    await sleep(PROBE_REUSE_MS + 50);
    await health.check();
    expect(calls).toEqual({ database: 2, store: 2 });
  });

  it('answers draining at once, without waiting for the probe in flight', async () => {
    const { health, slowDown } = healthWith(10);
    await health.check();
    slowDown(3000);
    await sleep(PROBE_REUSE_MS + 50);
    void health.check(); // a probe now in flight for 3 s
    health.startDrain();
    const started = performance.now();
    const report = await health.check();
    expect(report.status).toBe('draining');
    expect(report.ready).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
