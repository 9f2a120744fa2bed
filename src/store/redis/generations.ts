import { randomInt } from 'node:crypto';
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
 * vouches for), never expired. Its value is when its generation started (Unix ms; 0 for the
 * first one), then a dot and random digits that tell one writing of a marker from another:
 * `1764000000000.402815937612`. A Redis that restarts empty or fails over to an empty replica
 * loses the markers with the revocations, so a marker that is missing once this instance has seen
 * the markers means the revocation state under that tag is gone: a new generation starts now,
 * and every token issued before it is treated as revoked (fail closed). On a cluster each tag is
 * checked by itself, so a shard that lost its data is seen even when the others kept theirs.
 *
 * The random part is what catches a loss that another process saw first: after an empty restart,
 * a new instance or a CLI run that connects before this one finds no markers, takes it for a new
 * deployment and writes first-generation markers again. Without the random part they read as the
 * same `0` this instance knew, and revoked tokens came back. Here they differ from what this
 * instance saw, with a start no later than it: that is a loss, and this instance starts the new
 * generation over them. A marker that differs with a later start is a generation someone else
 * began after a loss: adopted as it is. (The previous release reads the number, random part and
 * all, as the same start: `Number('0.4028…')` is below 1 ms.)
 *
 * The hot path reads the marker in the same script as the revocation keys (same slot), so it
 * costs no round trip; a marker other than the one this instance saw (startFrom) runs the check
 * before the token is answered. This class also runs on every reconnect.
 */
export class Generations {
  /** The marker of each tag as this instance last saw (or wrote) it: from then on a missing or
   *  replaced one is a loss. */
  private readonly seen = new Map<string, string>();
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

  /** The start (Unix ms) a marker's value names. */
  static startOfMarker(value: string): number {
    return Math.floor(Number(value)) || 0;
  }

  /**
   * The start of `tag`'s generation given the marker the hot path read with the token's keys:
   * at once when it is the marker this instance saw, else after checking every marker (missing,
   * or written by someone else since: perhaps over a loss).
   */
  startFrom(tag: string, reply: unknown): number | Promise<number> {
    if (typeof reply === 'string' && this.seen.get(tag) === reply) return Generations.startOfMarker(reply);
    return this.startOf(tag);
  }

  /** The start of `tag`'s generation, after checking every marker (one at a time: single-flight). */
  async startOf(tag: string): Promise<number> {
    const starts = await this.verify();
    return starts.get(tag) ?? Number.MAX_SAFE_INTEGER;
  }

  /** Reads every marker; writes the missing or replaced ones (a new generation, or the first); reports a loss. */
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
    // Written again since this instance saw it, with a start no later: a setup over a loss.
    const replaced = tags.filter((tag) => {
      const value = read.get(tag);
      const seen = this.seen.get(tag);
      return value !== undefined && seen !== undefined && value !== seen && Generations.startOfMarker(value) <= Generations.startOfMarker(seen);
    });
    if (missing.length === 0 && replaced.length === 0) return this.remember(read);
    // Every marker missing and none ever seen: a new deployment, or the first start of a release
    // with markers on an existing Redis. Nothing says data was lost, so the first generation
    // starts at 0 (nothing revoked). A loss while no instance runs looks the same: see README.
    // Some missing while every present one is still a first generation's and this instance has
    // never seen them: another instance (or a CLI run) is setting them up right now (on a
    // cluster its writes land slot by slot), not a loss: calling it one revoked every user's
    // tokens. The price: a shard that lost its data before any generation was ever started is
    // seen only by an instance that had seen its markers.
    const settingUp = this.seen.size === 0 && tags.every((tag) => read.get(tag) === undefined || Generations.startOfMarker(read.get(tag)!) === 0);
    const start = settingUp ? 0 : this.clock.now();
    const marker = `${start}.${randomInt(1e11, 1e12)}`;
    await this.writeMissing(missing, marker);
    await Promise.all(replaced.map((tag) => this.replace(tag, read.get(tag)!, marker)));
    // NX and compare-and-set: another instance may have started the generation first; its start is the one.
    const changed = [...missing, ...replaced];
    const now = await this.readAll(changed);
    for (const tag of changed) read.set(tag, now.get(tag) ?? marker);
    const starts = this.remember(read);
    if (!settingUp) this.onLoss({ lostTags: changed.length, revokedBeforeMs: Math.max(...changed.map((tag) => starts.get(tag) ?? start)) });
    return starts;
  }

  /** Notes the markers as seen; returns each tag's start. */
  private remember(read: ReadonlyMap<string, string | undefined>): ReadonlyMap<string, number> {
    const starts = new Map<string, number>();
    for (const [tag, value] of read) {
      if (value === undefined) continue;
      this.seen.set(tag, value);
      starts.set(tag, Generations.startOfMarker(value));
    }
    return starts;
  }

  /** SET NX of each missing marker. On one Redis (standalone, Sentinel) in one MULTI, so that a
   *  reader never sees a setup half done; a cluster cannot span slots, so there each marker is
   *  its own step (and readers meanwhile take it for a setup in progress, above). */
  private async writeMissing(missing: readonly string[], value: string): Promise<void> {
    if (missing.length === 0) return;
    if (isCluster(this.redis)) {
      await Promise.all(missing.map((tag) => this.redis.set(keys.generation(tag), value, 'NX')));
      return;
    }
    const multi = this.redis.multi();
    for (const tag of missing) multi.set(keys.generation(tag), value, 'NX');
    for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
  }

  /** Replaces a marker only while it is still `expected` (another instance may have replaced it first). */
  private async replace(tag: string, expected: string, value: string): Promise<void> {
    await this.redis.eval(REPLACE_IF_UNCHANGED, 1, keys.generation(tag), expected, value);
  }

  private async readAll(tags: readonly string[]): Promise<Map<string, string | undefined>> {
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
    return new Map(tags.map((tag, index) => [tag, typeof replies[index] === 'string' ? (replies[index] as string) : undefined]));
  }
}

/** KEYS[1] a marker; ARGV[1] the value it must still have; ARGV[2] its new value. */
const REPLACE_IF_UNCHANGED = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end return 1";
