import { DenySet } from './deny-set.js';
import { SseParser, type ServerSentEvent } from './sse-parser.js';

// The verifier's subscription to the authorization server's revocation feed (GET
// /oauth/revocations, server-sent events): it keeps a local deny-set up to date, reconnects with
// exponential back-off and full jitter, and resumes with Last-Event-ID. Whether the set can be
// trusted is `fresh()`: connected and replayed, or down for less than the staleness bound.

export interface RevocationFeedOptions {
  readonly url: string;
  /** HTTP Basic credentials of a confidential client allowed to introspect. */
  readonly authorization: string;
  /** How long the feed may be down before the set is no longer trusted (ms). */
  readonly maxStalenessMs: number;
  readonly maxEntries: number;
  /** First reconnect delay and its cap (ms); each failure doubles it, randomised (full jitter). */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** No byte at all for this long (the server sends a comment every 15 s): the connection is dead. */
  readonly idleTimeoutMs: number;
}

interface Payload {
  readonly jti?: unknown;
  readonly exp?: unknown;
  readonly sid?: unknown;
  readonly sub?: unknown;
  readonly client_id?: unknown;
  readonly epoch?: unknown;
  readonly before?: unknown;
  readonly until?: unknown;
}

const nowSec = () => Math.floor(Date.now() / 1000);

export class RevocationFeedSubscription {
  readonly deny: DenySet;
  private lastEventId: string | undefined;
  private connectedAndReplayed = false;
  /** The first replay has completed (before it, the feed counts as down since forever). */
  private everReplayed = false;
  private downSince = 0;
  private failures = 0;
  private stopped = false;
  private abort: AbortController | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: RevocationFeedOptions) {
    this.deny = new DenySet(options.maxEntries);
    void this.run();
  }

  /** The deny-set says all there is to say: connected and replayed, or down within the bound. */
  fresh(): boolean {
    if (this.deny.overflowed) return false;
    if (this.connectedAndReplayed) return true;
    if (!this.everReplayed) return false;
    return Date.now() - this.downSince <= this.options.maxStalenessMs;
  }

  close(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.abort?.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.connectOnce().catch(() => undefined);
      this.markDown();
      if (this.stopped) return;
      this.failures += 1;
      const ceiling = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** Math.min(this.failures - 1, 16));
      await new Promise<void>((resolve) => (this.retry = setTimeout(resolve, Math.random() * ceiling)));
    }
  }

  private markDown(): void {
    if (this.connectedAndReplayed) this.downSince = Date.now();
    this.connectedAndReplayed = false;
  }

  private async connectOnce(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const alive = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), this.options.idleTimeoutMs);
    };
    alive();
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization: this.options.authorization };
      if (this.lastEventId !== undefined && !this.deny.overflowed) headers['last-event-id'] = this.lastEventId;
      const response = await fetch(this.options.url, { headers, signal: abort.signal });
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        return;
      }
      // Only a set that overflowed is emptied (its full replay rebuilds it): any other set stays
      // as it is while a replay re-adds entries, so it never vouches with fewer than it had.
      if (this.deny.overflowed) this.reset();
      const parser = new SseParser((event) => this.onEvent(event, abort), alive);
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.push(decoder.decode(chunk, { stream: true }));
    } finally {
      if (idle) clearTimeout(idle);
    }
  }

  /** A full replay follows: the set is rebuilt from it (and may fit again, as entries expire). */
  private reset(): void {
    this.deny.prune(Number.MAX_SAFE_INTEGER);
    this.deny.overflowed = false;
  }

  private onEvent(event: ServerSentEvent, abort: AbortController): void {
    if (event.event === 'ready') {
      this.connectedAndReplayed = true;
      this.everReplayed = true;
      this.failures = 0;
      return;
    }
    let payload: Payload;
    try {
      payload = JSON.parse(event.data) as Payload;
    } catch {
      return;
    }
    this.apply(event.event, payload);
    if (event.lastEventId !== undefined) this.lastEventId = event.lastEventId;
    // Full: reconnect for a full replay rather than vouch for tokens with a gap in the set.
    if (this.deny.overflowed) abort.abort();
  }

  private apply(type: string, p: Payload): void {
    const now = nowSec();
    const str = (value: unknown): value is string => typeof value === 'string';
    const num = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
    if (type === 'jti' && str(p.jti) && num(p.exp)) this.deny.addJti(p.jti, p.exp, now);
    else if (type === 'sid' && str(p.sid) && num(p.until)) this.deny.addSid(p.sid, p.until, now);
    else if (type === 'user' && str(p.sub) && num(p.epoch) && num(p.until)) this.deny.addUserEpoch(p.sub, p.epoch, p.until, now);
    else if (type === 'client' && str(p.client_id) && num(p.epoch) && num(p.until)) this.deny.addClientEpoch(p.client_id, p.epoch, p.until, now);
    else if (type === 'lost' && num(p.before) && num(p.until)) this.deny.addLost(p.before, p.until, now);
  }
}
