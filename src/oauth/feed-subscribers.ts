import { OAuthError } from './errors';

export interface FeedLimits {
  /** Open feed streams this instance serves at once (each holds a socket and a listener). */
  readonly maxSubscribers: number;
  /** Per client: a verifier needs one per process; more is a leak or someone holding sockets. */
  readonly maxPerClient: number;
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { maxSubscribers: 256, maxPerClient: 16 };

/** Retry-After for a full instance: a slot frees when a subscriber goes, which is not soon. */
export const FEED_FULL_RETRY_AFTER_SEC = 30;

/**
 * The bound on GET /oauth/revocations subscribers. A stream lasts for hours, so without a bound
 * a client allowed to introspect could hold every socket of the instance.
 */
export class FeedSubscribers {
  private total = 0;
  private readonly perClient = new Map<string, number>();
  private readonly enders = new Set<() => void>();

  constructor(private readonly limits: FeedLimits = DEFAULT_FEED_LIMITS) {}

  /**
   * A place for one more stream of `clientId`, and the function that gives it back (once).
   * `end` closes that stream: a draining instance ends every feed (endAll), or its drain would
   * wait for streams that never finish; the verifiers reconnect to another instance.
   */
  acquire(clientId: string, end: () => void = () => undefined): () => void {
    const held = this.perClient.get(clientId) ?? 0;
    if (this.total >= this.limits.maxSubscribers || held >= this.limits.maxPerClient) {
      throw new OAuthError('temporarily_unavailable', this.total >= this.limits.maxSubscribers ? 'this instance serves as many revocation feeds as it may' : 'this client holds as many revocation feeds as it may');
    }
    this.total += 1;
    this.perClient.set(clientId, held + 1);
    let released = false;
    this.enders.add(end);
    return () => {
      if (released) return;
      released = true;
      this.enders.delete(end);
      this.total -= 1;
      const left = (this.perClient.get(clientId) ?? 1) - 1;
      if (left > 0) this.perClient.set(clientId, left);
      else this.perClient.delete(clientId);
    };
  }

  endAll(): void {
    for (const end of [...this.enders]) end();
  }

  get size(): number {
    return this.total;
  }
}
