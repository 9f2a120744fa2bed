import { Redis } from 'ioredis';
import { systemClock } from '../../src/clock';
import { Generations, type DataLoss } from '../../src/store/redis/generations';
import { keys } from '../../src/store/redis/keys';
import { allTags } from '../../src/store/user-tag';
import { commandExists, startRedis, type Backend } from '../support/backends';
import { missingBackend } from '../support/env';

// Issue 16's markers on first setup: an instance (or a CLI run) that reads while another writes
// the 1,024 markers must not take the half-written set for a loss, which revoked every user's
// tokens. A real redis-server of this file's own, emptied between tests.

if (!commandExists('redis-server')) {
  missingBackend('redis-server');
} else {
  describe('generation markers: a setup in progress is not a data loss', () => {
    let redis: Backend;
    let admin: Redis;
    const clients: Redis[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      admin = new Redis(redis.url);
    });
    afterEach(async () => {
      for (const client of clients.splice(0)) client.disconnect();
      await admin.flushall();
    });
    afterAll(async () => {
      admin.disconnect();
      await redis.destroy();
    });

    /** `count` instances, connected together; what each reported lost. */
    const startTogether = async (count: number): Promise<{ losses: DataLoss[]; instances: Generations[] }> => {
      const losses: DataLoss[] = [];
      const instances = Array.from({ length: count }, () => {
        const client = new Redis(redis.url, { lazyConnect: true });
        clients.push(client);
        return new Generations(client, systemClock, (loss) => losses.push(loss));
      });
      await Promise.all(clients.slice(-count).map((client) => client.connect()));
      await Promise.all(instances.map((instance) => instance.verify()));
      return { losses, instances };
    };

    const markers = async (): Promise<Array<string | null>> => admin.mget(allTags().map((tag) => keys.generation(tag)));

    /** The generation starts the markers name (the random part after the dot aside). */
    const starts = async (): Promise<Set<number>> => new Set((await markers()).map((value) => Generations.startOfMarker(value!)));

    it('two instances starting together on an empty Redis report no loss, and every marker starts at 0', async () => {
      for (let round = 0; round < 5; round++) {
        const { losses } = await startTogether(2);
        expect(losses).toEqual([]);
        const values = await markers();
        expect(values.every((value) => /^0\.\d{12}$/.test(value ?? ''))).toBe(true);
        // One instance's setup, in one MULTI: one value everywhere.
        expect(new Set(values).size).toBe(1);
        await admin.flushall();
      }
    });

    it('instances finding a setup half done (markers still being written, or a writer that stopped) finish it without a loss', async () => {
      const tags = allTags();
      await admin.mset(...tags.slice(0, 300).flatMap((tag) => [keys.generation(tag), '0']));
      // And a writer still at it, one marker at a time, as on a cluster.
      const writer = (async () => {
        for (const tag of tags.slice(300, 600)) await admin.set(keys.generation(tag), '0', 'NX');
      })();
      const { losses } = await startTogether(2);
      await writer;
      expect(losses).toEqual([]);
      expect(await starts()).toEqual(new Set([0]));
    });

    it('is a loss when another process reached the empty Redis first and set the markers up again: revoked tokens must not come back', async () => {
      const { losses, instances } = await startTogether(1);
      const [tag] = allTags();
      const knew = await admin.get(keys.generation(tag!));
      // Redis restarts empty; a new instance (or a CLI run) connects before this one reconnects.
      await admin.flushall();
      const newcomer = await startTogether(1);
      expect(newcomer.losses).toEqual([]);
      const rewritten = await admin.get(keys.generation(tag!));
      expect(Generations.startOfMarker(rewritten!)).toBe(0);
      expect(rewritten).not.toBe(knew);
      // The hot path reads a marker this instance never saw: the check runs before the answer.
      const start = await instances[0]!.startFrom(tag!, rewritten);
      expect(start).toBeGreaterThan(0);
      expect(losses).toEqual([{ lostTags: allTags().length, revokedBeforeMs: start }]);
      expect(await starts()).toEqual(new Set([start]));
      // The newcomer adopts the generation begun over its setup: no second loss, no new start.
      await newcomer.instances[0]!.verify();
      expect(newcomer.losses).toEqual([]);
      expect(await newcomer.instances[0]!.startFrom(tag!, await admin.get(keys.generation(tag!)))).toBe(start);
      expect(await starts()).toEqual(new Set([start]));
    });

    it('is still a loss when markers go missing after this instance saw them, or beside a generation started later', async () => {
      const { losses, instances } = await startTogether(1);
      const [lostTag, otherTag] = allTags();
      await admin.del(keys.generation(lostTag!));
      await instances[0]!.verify();
      expect(losses).toEqual([{ lostTags: 1, revokedBeforeMs: expect.any(Number) }]);
      const started = Number(await admin.get(keys.generation(lostTag!)));
      expect(started).toBeGreaterThan(0);

      // A fresh instance: one marker carries a later generation, so the set was complete once.
      await admin.del(keys.generation(otherTag!));
      const fresh = await startTogether(1);
      expect(fresh.losses).toEqual([{ lostTags: 1, revokedBeforeMs: expect.any(Number) }]);
    });
  });
}
