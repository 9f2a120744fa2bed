import type { Logger } from '../logging/logger';

/** At most one outage line and one recovery line per backend in this long (a flapping link). */
export const OUTAGE_LOG_INTERVAL_MS = 30_000;

/**
 * Logs a backend's outage once when it starts (`<backend>.unavailable`, error, with the reason)
 * and once when it ends (`<backend>.recovered`, info, with how long it lasted), however many
 * requests fail meanwhile: those log at debug. The end of a reported outage is logged at once; a
 * new outage within OUTAGE_LOG_INTERVAL_MS of the last line (a flapping link) is held back and
 * counted on the next line (`flaps`), and the state at the end of the interval is logged if it
 * differs from the last line, so the last line always tells the truth.
 */
export class OutageLog {
  private downSince: number | undefined;
  private lastLineAt = Number.NEGATIVE_INFINITY;
  /** The state the last line reported. */
  private reportedDown = false;
  private flaps = 0;
  private reason = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly backend: 'redis' | 'database',
    private readonly intervalMs = OUTAGE_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the backend is down, as the last call seen says. */
  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** A call to the backend failed because it cannot answer. Cheap when already down. */
  down(reason: string): void {
    if (this.downSince !== undefined) return;
    this.downSince = this.now();
    this.reason = reason;
    this.transition();
  }

  /** A call to the backend succeeded. Cheap (one comparison) when it was up. */
  up(): void {
    if (this.downSince === undefined) return;
    this.downSince = undefined;
    this.transition();
  }

  private transition(): void {
    const wait = this.lastLineAt + this.intervalMs - this.now();
    // The end of a reported outage is always told at once; the interval holds back new outages.
    if (wait <= 0 || (this.downSince === undefined && this.reportedDown)) {
      this.report();
      return;
    }
    this.flaps += 1;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.isDown !== this.reportedDown) this.report();
    }, wait).unref();
  }

  private report(): void {
    const flaps = this.flaps > 0 ? { flaps: this.flaps } : {};
    this.flaps = 0;
    this.lastLineAt = this.now();
    if (this.downSince !== undefined) {
      this.reportedDown = true;
      this.log.error({ event: `${this.backend}.unavailable`, reason: this.reason, ...flaps }, `${this.backend} is unavailable: requests that need it are refused until it is back`);
    } else {
      const since = this.outageStartedAt;
      this.reportedDown = false;
      this.log.info({ event: `${this.backend}.recovered`, downMs: since === undefined ? undefined : this.now() - since, ...flaps }, `${this.backend} is back`);
    }
    this.outageStartedAt = this.downSince;
  }

  /** When the outage the last "unavailable" line reported began (for the recovery's duration). */
  private outageStartedAt: number | undefined;
}
