import type { Clock } from '../../clock';
import { allTags } from '../user-tag';
import { keys } from './keys';
import { isCluster } from './connect';
import type { RedisClient } from './scripts';

/** What the service logs when it finds that Redis lost its data (`redis.data_lost`). */
export interface DataLoss {
  /** How many of the USER_TAG_COUNT slots' markers were gone (all of them after a restart; one
   *  shard's share on a cluster). */
  readonly lostTags: number;
  /** Tokens issued before this time (Unix ms) are treated as revoked. */
  readonly revokedBeforeMs: number;
}

/**
 * Generation markers: one key per user tag (`{u:XY}:gen`, in the slot of the revocation keys it
 * vouches for), written once and never expired. Its value is when its generation started (Unix
 * ms; 0 for the first one). A Redis that restarts empty or fails over to an empty replica loses
 * the markers with the revocations, so a marker that is missing once this instance has seen the
 * markers means the revocation state under that tag is gone: a new generation starts now, and
 * every token issued before it is treated as revoked (fail closed). On a cluster each tag is
 * checked by itself, so a shard that lost its data is seen even when the others kept theirs.
 *
 * The hot path reads the marker in the same pipeline as the revocation keys (same slot), so it
 * costs no round trip; this class runs only when a marker is missing and on every reconnect.
 */
export class Generations {
  /** This instance has seen (or written) the markers: from now on a missing one is a loss. */
  private known = false;
  private running: Promise<ReadonlyMap<string, number>> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly onLoss: (loss: DataLoss) => void,
  ) {
    // A reconnect is when a restarted (or failed over) Redis shows up: check at once, not at
    // the next token of each tag.
    redis.on('ready', () => {
      this.verify().catch(() => undefined);
    });
    if (redis.status === 'ready') this.verify().catch(() => undefined);
  }

  /** Parses a marker read by the hot path; undefined when it is missing. */
  static parse(reply: unknown): number | undefined {
    return typeof reply === 'string' ? Number(reply) || 0 : undefined;
  }

  /** The start of `tag`'s generation, after checking every marker (one at a time: single-flight). */
  async startOf(tag: string): Promise<number> {
    const starts = await this.verify();
    return starts.get(tag) ?? Number.MAX_SAFE_INTEGER;
  }

  /** Reads every marker; writes the missing ones (a new generation, or the first); reports a loss. */
  verify(): Promise<ReadonlyMap<string, number>> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<ReadonlyMap<string, number>> {
    const tags = allTags();
    const read = await this.readAll(tags);
    const missing = tags.filter((tag) => read.get(tag) === undefined);
    if (missing.length === 0) {
      this.known = true;
      return read as ReadonlyMap<string, number>;
    }
    // Every marker missing and none ever seen: a new deployment, or the first start of a release
    // with markers on an existing Redis. Nothing says data was lost, so the first generation
    // starts at 0 (nothing revoked). A loss while no instance runs looks the same: see README.
    // Some missing while every present one is still the first generation's 0, and this instance
    // has never seen them: another instance (or a CLI run) is setting them up right now (on a
    // cluster its writes land slot by slot), not a loss: calling it one revoked every user's
    // tokens. The price: a shard that lost its data before any generation was ever started is
    // seen only by an instance that had seen its markers.
    const present = tags.filter((tag) => read.get(tag) !== undefined);
    const settingUp = !this.known && present.every((tag) => read.get(tag) === 0);
    const lost = !settingUp;
    const start = lost ? this.clock.now() : 0;
    await this.writeMissing(missing, String(start));
    // NX: another instance may have started the generation first; its start is the one.
    const now = await this.readAll(missing);
    const starts = new Map(read);
    for (const tag of missing) starts.set(tag, now.get(tag) ?? start);
    this.known = true;
    if (lost) this.onLoss({ lostTags: missing.length, revokedBeforeMs: Math.max(...missing.map((tag) => starts.get(tag) ?? start)) });
    return starts as ReadonlyMap<string, number>;
  }

  /** SET NX of each missing marker. On one Redis (standalone, Sentinel) in one MULTI, so that a
   *  reader never sees a setup half done; a cluster cannot span slots, so there each marker is
   *  its own step (and readers meanwhile take it for a setup in progress, above). */
  private async writeMissing(missing: readonly string[], value: string): Promise<void> {
    if (isCluster(this.redis)) {
      await Promise.all(missing.map((tag) => this.redis.set(keys.generation(tag), value, 'NX')));
      return;
    }
    const multi = this.redis.multi();
    for (const tag of missing) multi.set(keys.generation(tag), value, 'NX');
    for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
  }

  private async readAll(tags: readonly string[]): Promise<Map<string, number | undefined>> {
    const markers = tags.map((tag) => keys.generation(tag));
    let replies: unknown[];
    if (isCluster(this.redis)) {
      replies = await Promise.all(markers.map((key) => this.redis.get(key)));
    } else {
      const pipeline = this.redis.pipeline();
      for (const key of markers) pipeline.get(key);
      replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    }
    return new Map(tags.map((tag, index) => [tag, Generations.parse(replies[index])]));
  }
}
