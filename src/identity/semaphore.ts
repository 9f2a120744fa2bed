/** Every waiting place is taken: the caller should come back later (503 + Retry-After). */
export class QueueFullError extends Error {
  /** Retry-After seconds (RFC 9110 §10.2.3): a full queue drains in seconds, not minutes. */
  readonly retryAfterSec = 2;

  constructor() {
    super('too many operations waiting');
    this.name = 'QueueFullError';
  }
}

/** One owner (a client address) already holds its fair share of the waiting places (429). */
export class QueueShareExceededError extends Error {
  readonly retryAfterSec = 2;

  constructor(readonly owner: string) {
    super('too many operations waiting for one owner');
    this.name = 'QueueShareExceededError';
  }
}

/** The caller's signal aborted (its client went away) before the task started: it never ran. */
export class RequestAbortedError extends Error {
  constructor() {
    super('request aborted before its work started');
    this.name = 'RequestAbortedError';
  }
}

export interface RunOptions {
  /** Aborting it drops the task while it waits; a running task is never interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** Whose waiting place this is (a client address), for the per-owner share; none = no one's. */
  readonly owner?: string | undefined;
}

/** Told how long each task waited for its slot and of each refusal (the metrics); must be cheap. */
export interface QueueObserver {
  /** A task got its slot after `seconds` in the queue (0 when a slot was free). */
  started(seconds: number): void;
  /** A task was refused a waiting place. */
  refused(reason: 'queue_full' | 'owner_share'): void;
}

/** A waiting place, linked both ways so that an abort anywhere in the queue unlinks it in O(1). */
interface Waiter {
  readonly owner: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly resume: () => void;
  readonly onAbort: () => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * Runs at most `limit` tasks at once; the rest wait in FIFO order, at most `maxQueue` of them and
 * at most `maxPerOwner` of one owner's. A waiter whose signal aborts leaves the queue at once, so
 * work nobody will read the answer to costs nothing. Every operation is O(1).
 * Small enough to keep here rather than take a dependency (the usual packages are ESM-only,
 * which jest's CommonJS loader would have to be taught about).
 */
export class Semaphore {
  private active = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private length = 0;
  private readonly perOwner = new Map<string, number>();
  private observer: QueueObserver | undefined;

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
    private readonly maxPerOwner = Number.POSITIVE_INFINITY,
  ) {}

  /** Tasks waiting for a slot. */
  get pending(): number {
    return this.length;
  }

  /** Tasks holding a slot. */
  get running(): number {
    return this.active;
  }

  /** Reports waits and refusals to `observer` from now on (one observer; a second replaces it). */
  observe(observer: QueueObserver | undefined): void {
    this.observer = observer;
  }

  /** Tasks of `owner` waiting for a slot. */
  pendingFor(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  async run<T>(task: () => Promise<T>, { signal, owner }: RunOptions = {}): Promise<T> {
    if (signal?.aborted) throw new RequestAbortedError();
    if (this.active >= this.limit) {
      // The owner's share first: an address over its share learns that it is the problem (429),
      // even when the queue is also full.
      if (owner !== undefined && this.pendingFor(owner) >= this.maxPerOwner) {
        this.observer?.refused('owner_share');
        throw new QueueShareExceededError(owner);
      }
      if (this.length >= this.maxQueue) {
        this.observer?.refused('queue_full');
        throw new QueueFullError();
      }
      const queuedAt = this.observer ? performance.now() : 0;
      await this.wait(signal, owner);
      this.observer?.started((performance.now() - queuedAt) / 1000);
    } else {
      this.active += 1;
      this.observer?.started(0);
    }
    try {
      // The slot was handed over, but the abort may have come in the microtasks since.
      if (signal?.aborted) throw new RequestAbortedError();
      return await task();
    } finally {
      this.release();
    }
  }

  private wait(signal: AbortSignal | undefined, owner: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        owner,
        signal,
        resume: resolve,
        onAbort: () => {
          this.unlink(waiter);
          reject(new RequestAbortedError());
        },
        prev: this.tail,
        next: undefined,
      };
      if (this.tail) this.tail.next = waiter;
      else this.head = waiter;
      this.tail = waiter;
      this.length += 1;
      if (owner !== undefined) this.perOwner.set(owner, this.pendingFor(owner) + 1);
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  private unlink(waiter: Waiter): void {
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.length -= 1;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (waiter.owner !== undefined) {
      const left = this.pendingFor(waiter.owner) - 1;
      // Deleted at zero, so the map holds only owners with waiters and cannot grow without bound.
      if (left > 0) this.perOwner.set(waiter.owner, left);
      else this.perOwner.delete(waiter.owner);
    }
  }

  private release(): void {
    const next = this.head;
    if (next) {
      // The slot passes straight to the next waiter, so `active` only drops when none wait.
      this.unlink(next);
      next.resume();
    } else {
      this.active -= 1;
    }
  }
}
