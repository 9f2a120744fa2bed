import type { Cluster, Redis } from 'ioredis';
import { MemoryRevocationFeed } from '../../src/store/memory/memory-revocation-feed';
import { RedisRevocationFeed } from '../../src/store/redis/redis-revocation-feed';
import { compareFeedIds, type FeedEvent, type RevocationFeed } from '../../src/store/revocation-feed';
import { connectTestRedis, sharedTarget, storeContractKinds, uniqueName, type StoreKind } from '../support/env';

const TTL = 300;

async function createFeed(kind: StoreKind): Promise<{ feed: RevocationFeed; other: RevocationFeed; close(): Promise<void> }> {
  if (kind === 'memory') {
    const feed = new MemoryRevocationFeed();
    // One process: the "other instance" is the same feed.
    return { feed, other: feed, close: () => feed.close() };
  }
  const prefix = uniqueName('feed') + ':';
  const clients: Array<Redis | Cluster> = [await connectTestRedis(sharedTarget(kind), prefix), await connectTestRedis(sharedTarget(kind), prefix)];
  const a = new RedisRevocationFeed(clients[0]!, TTL);
  const b = new RedisRevocationFeed(clients[1]!, TTL);
  return {
    feed: a,
    other: b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      clients.forEach((client) => client.disconnect());
    },
  };
}

function nextEvents(feed: RevocationFeed, count: number): Promise<FeedEvent[]> {
  return new Promise((resolve, reject) => {
    const seen: FeedEvent[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} events arrived`)), 5000);
    const stop = feed.subscribe((event) => {
      seen.push(event);
      if (seen.length < count) return;
      clearTimeout(timer);
      stop();
      resolve(seen);
    });
  });
}

const now = () => Math.floor(Date.now() / 1000);

// One contract for every backend of the revocation feed (issue 17).
describe.each(storeContractKinds())('revocation feed contract (%s)', (kind) => {
  let feed: RevocationFeed;
  let other: RevocationFeed;
  let close: () => Promise<void>;

  beforeEach(async () => ({ feed, other, close } = await createFeed(kind)));
  afterEach(async () => close());

  it('replays every kind of entry in order, ids increasing', async () => {
    const until = now() + 60;
    await feed.publish({ type: 'jti', jti: 'j1', until });
    await feed.publish({ type: 'sid', sid: 's1', until });
    await feed.publish({ type: 'user', sub: 'u1', epoch: 1_800_000_000_123, until });
    await feed.publish({ type: 'client', clientId: 'c1', epoch: 1_800_000_000_456, until });
    await feed.publish({ type: 'lost', before: 1_800_000_000_789, until });
    const replayed = await other.replay(undefined, now());
    expect(replayed.map((event) => event.entry)).toEqual([
      { type: 'jti', jti: 'j1', until },
      { type: 'sid', sid: 's1', until },
      { type: 'user', sub: 'u1', epoch: 1_800_000_000_123, until },
      { type: 'client', clientId: 'c1', epoch: 1_800_000_000_456, until },
      { type: 'lost', before: 1_800_000_000_789, until },
    ]);
    for (let i = 1; i < replayed.length; i += 1) expect(compareFeedIds(replayed[i - 1]!.id, replayed[i]!.id)).toBeLessThan(0);
  });

  it('leaves out entries whose tokens have expired anyway', async () => {
    await feed.publish({ type: 'jti', jti: 'gone', until: now() + 1 });
    await feed.publish({ type: 'jti', jti: 'kept', until: now() + 60 });
    expect((await feed.replay(undefined, now() + 2)).map((event) => event.entry)).toEqual([{ type: 'jti', jti: 'kept', until: expect.any(Number) }]);
  });

  it('resumes after a Last-Event-ID without replaying what came before it', async () => {
    await feed.publish({ type: 'jti', jti: 'a', until: now() + 60 });
    const [first] = await feed.replay(undefined, now());
    await feed.publish({ type: 'jti', jti: 'b', until: now() + 60 });
    const resumed = await other.replay(first!.id, now());
    expect(resumed.map((event) => event.entry)).toEqual([{ type: 'jti', jti: 'b', until: expect.any(Number) }]);
  });

  it('replays everything for an id it does not know (ahead of the feed, or garbage)', async () => {
    await feed.publish({ type: 'sid', sid: 's', until: now() + 60 });
    expect(await feed.replay('99999999999999-0', now())).toHaveLength(1);
    expect(await feed.replay('not-an-id', now())).toHaveLength(1);
  });

  it('delivers a publish on one instance to subscribers of another', async () => {
    const arriving = nextEvents(other, 2);
    // The reader starts with the first subscriber: give it a moment to block on the stream.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await feed.publish({ type: 'jti', jti: 'x', until: now() + 60 });
    await feed.publish({ type: 'user', sub: 'u', epoch: 1, until: now() + 60 });
    expect((await arriving).map((event) => event.entry.type)).toEqual(['jti', 'user']);
  });
});
