/** A read whose callers share its work (reusedRead), and the last value it returned. */
export interface ReusedRead<T> {
  (): Promise<T>;
  /** The last value read, however old; undefined before the first success. */
  readonly last: T | undefined;
}

/**
 * Shares a read among its callers: one arriving while a read runs waits for that one, and a value
 * younger than `maxAgeMs` is answered again. A failed read is not kept: the next call reads
 * again. For reads that cost more than their freshness is worth (the cluster primary's metrics
 * scrape, the discovery document's scopes).
 */
export function reusedRead<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number = () => performance.now()): ReusedRead<T> {
  let running: Promise<T> | undefined;
  let last: { readonly value: T; readonly at: number } | undefined;
  const reused = (): Promise<T> => {
    if (last !== undefined && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    running ??= read()
      .then((value) => {
        last = { value, at: now() };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return Object.defineProperty(reused, 'last', { get: () => last?.value }) as ReusedRead<T>;
}
