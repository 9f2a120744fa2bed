import type { Cluster, Redis } from 'ioredis';
import { compareFeedIds, decodeEntry, encodeEntry, parseFeedId, type FeedEvent, type RevocationEntry, type RevocationFeed } from '../revocation-feed';
import { isCluster } from './connect';
import type { RedisClient } from './scripts';

// One Redis Stream for the whole deployment. The hash tag pins it to one slot, so on a Cluster
// it lives on one master (and its replicas): the feed is small (one entry per revocation, kept
// for ACCESS_TOKEN_TTL) and read by one connection per instance, so one node carries it easily.
const STREAM = '{revocation-feed}:stream';
const BLOCK_MS = 5000;
const PAGE = 1000;
const RETRY_MS = 250;

type StreamReply = Array<[id: string, fields: string[]]>;

function events(reply: StreamReply | null | undefined): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (const [id, fields] of reply ?? []) {
    const entry = decodeEntry(fields);
    if (entry) out.push({ id, entry });
  }
  return out;
}

/**
 * The feed on Redis Streams. Writers XADD (trimmed by time: MINID drops entries older than every
 * token they could affect, so nothing live is ever trimmed and a resume is always complete).
 * Each instance reads new entries with one dedicated blocking connection (XREAD BLOCK ties up a
 * connection, which must not be the one the hot paths share), started with its first local
 * subscriber, and fans them out in-process.
 */
export class RedisRevocationFeed implements RevocationFeed {
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private reader: Redis | Cluster | undefined;
  private closed = false;

  /** `retentionSec`: the longest any entry lives, whoever wrote it (create-store.ts: the longest
   *  ACCESS_TOKEN_TTL allowed, plus the longest client cache a client epoch runs ahead by). */
  constructor(
    private readonly redis: RedisClient,
    private readonly retentionSec: number,
  ) {}

  async publish(entry: RevocationEntry): Promise<void> {
    // Redis's own clock stamps the id; the trim point uses ours, with a minute's slack for skew.
    const minId = Date.now() - (this.retentionSec + 60) * 1000;
    await this.redis.xadd(STREAM, 'MINID', '~', String(Math.max(minId, 0)), '*', ...encodeEntry(entry));
  }

  async replay(after: string | undefined, now: number): Promise<FeedEvent[]> {
    let start = '-';
    if (parseFeedId(after) !== undefined) {
      const newest = (await this.redis.xrevrange(STREAM, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      if (compareFeedIds(after as string, newest) <= 0) start = `(${after as string}`;
    }
    const out: FeedEvent[] = [];
    for (;;) {
      const page = events((await this.redis.xrange(STREAM, start, '+', 'COUNT', PAGE)) as StreamReply);
      out.push(...page.filter((event) => event.entry.until > now));
      const last = page.at(-1);
      if (page.length < PAGE || !last) return out;
      start = `(${last.id}`;
    }
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.reader && !this.closed) this.startReading();
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.reader?.disconnect();
    this.reader = undefined;
  }

  private startReading(): void {
    // Its own connection, with a command timeout longer than the block, and the same target,
    // prefix and credentials as the shared one; one blocking command at a time, so nothing to
    // auto-pipeline.
    const timeouts = { commandTimeout: BLOCK_MS + 5000, lazyConnect: true, enableAutoPipelining: false };
    const reader = isCluster(this.redis) ? this.redis.duplicate(undefined, { redisOptions: { ...this.redis.options.redisOptions, ...timeouts } }) : this.redis.duplicate(timeouts);
    reader.on('error', () => undefined);
    this.reader = reader;
    void this.readLoop(reader);
  }

  private async readLoop(reader: Redis | Cluster): Promise<void> {
    let cursor: string | undefined;
    while (!this.closed && this.reader === reader) {
      try {
        if (reader.status === 'wait') await reader.connect();
        // From the stream's start: the first subscriber's replay may be read before this loop
        // first blocks, and an entry written between the two must reach it (subscribers drop
        // what they already replayed, by id). After that, from the last entry seen, so an error
        // or a reconnect between two reads loses nothing.
        cursor ??= '0-0';
        const reply = (await reader.xread('COUNT', PAGE, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM, cursor)) as Array<[string, StreamReply]> | null;
        const read = events(reply?.[0]?.[1]);
        const lastRaw = reply?.[0]?.[1].at(-1)?.[0];
        if (lastRaw !== undefined) cursor = lastRaw;
        for (const event of read) for (const listener of this.listeners) listener(event);
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
}
