import { compareFeedIds, parseFeedId, type FeedEvent, type RevocationEntry, type RevocationFeed } from '../revocation-feed';

/**
 * The feed of the embedded store: this process's revocations only (as the store itself).
 * Expired entries are dropped as new ones arrive, so memory is bounded by what is still live.
 */
export class MemoryRevocationFeed implements RevocationFeed {
  private events: FeedEvent[] = [];
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private lastMs = 0;
  private seq = 0;

  /** `nowMs`: the wall clock the ids are taken from (Redis takes its own). */
  constructor(private readonly nowMs: () => number = Date.now) {}

  async publish(entry: RevocationEntry): Promise<void> {
    const ms = Math.max(this.nowMs(), this.lastMs);
    this.seq = ms === this.lastMs ? this.seq + 1 : 0;
    this.lastMs = ms;
    const event: FeedEvent = { id: `${ms}-${this.seq}`, entry };
    const nowSec = Math.floor(ms / 1000);
    this.events = this.events.filter((kept) => kept.entry.until > nowSec);
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  async replay(after: string | undefined, now: number): Promise<FeedEvent[]> {
    const live = this.events.filter((event) => event.entry.until > now);
    const newest = this.events.at(-1)?.id ?? '0-0';
    if (parseFeedId(after) === undefined || compareFeedIds(after as string, newest) > 0) return live;
    return live.filter((event) => compareFeedIds(event.id, after as string) > 0);
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.events = [];
  }
}
