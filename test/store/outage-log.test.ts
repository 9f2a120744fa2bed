import { createLogger } from '../../src/logging/logger';
import { OutageLog } from '../../src/store/outage-log';
import { LogCapture } from '../support/logs';

describe('OutageLog: an outage logged once, its end once, flapping held back', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('logs the first failure and the recovery once, however many calls fail between', () => {
    const logs = new LogCapture();
    const outage = new OutageLog(createLogger('info', logs), 'redis', 30_000, clock);
    outage.up();
    for (let i = 0; i < 50; i += 1) outage.down('ECONNREFUSED');
    now += 4_000;
    outage.up();
    outage.up();
    expect(logs.events('redis.unavailable')).toEqual([expect.objectContaining({ level: 'error', reason: 'ECONNREFUSED' })]);
    expect(logs.events('redis.recovered')).toEqual([expect.objectContaining({ level: 'info', downMs: 4_000 })]);
  });

  it('holds back a new outage within the interval, then reports the state at its end with the flaps counted', () => {
    jest.useFakeTimers();
    try {
      const logs = new LogCapture();
      const outage = new OutageLog(createLogger('info', logs), 'database', 30_000, clock);
      outage.down('ECONNREFUSED');
      now += 1_000;
      outage.up();
      for (let i = 0; i < 5; i += 1) {
        now += 1_000;
        outage.down('ECONNRESET');
        now += 1_000;
        outage.up();
      }
      now += 1_000;
      outage.down('ECONNRESET');
      expect(logs.events('database.unavailable')).toHaveLength(1);
      expect(logs.events('database.recovered')).toHaveLength(1);
      now += 30_000;
      jest.runOnlyPendingTimers();
      // Still down at the end of the interval: told once, with the transitions held back.
      expect(logs.events('database.unavailable')).toEqual([expect.anything(), expect.objectContaining({ flaps: 11 })]);
    } finally {
      jest.useRealTimers();
    }
  });
});
