export class QueueFullError extends Error {
  constructor() {
    super('too many operations waiting');
    this.name = 'QueueFullError';
  }
}

/**
 * Runs at most `limit` tasks at once; the rest wait in FIFO order, at most `maxQueue` of them.
 * Small enough to keep here rather than take a dependency (the usual packages are ESM-only,
 * which jest's CommonJS loader would have to be taught about).
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new QueueFullError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` only drops when none wait.
      if (next) next();
      else this.running -= 1;
    }
  }
}
