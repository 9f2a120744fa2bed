import { StoreUnavailableError } from './unavailable';

/** Decides whether a backend failure means "cannot answer now" rather than a bug. */
export type OutageTest = (error: unknown) => boolean;

/** Told when a call found the backend out (down) and when one got an answer (up): OutageLog. */
export interface OutageObserver {
  down(reason: string): void;
  up(): void;
}

/**
 * The store with every method's outage failures turned into StoreUnavailableError, at the
 * boundary where the backend is called, so nothing above needs to know the backend's errors.
 * A proxy rather than a class listing each method: the store interface keeps growing, and a
 * method added later is covered without anyone remembering to wrap it. Other failures pass
 * through unchanged (a bug stays a 500 with its stack in the log).
 */
export function failClosed<T extends object>(store: T, isOutage: OutageTest, outages?: OutageObserver): T {
  const wrapped = new Map<PropertyKey, unknown>();
  const classify = (operation: string, error: unknown): unknown => {
    if (error instanceof StoreUnavailableError || !isOutage(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    outages?.down(reason);
    return new StoreUnavailableError(operation, reason, { cause: error });
  };
  const answered = (value: unknown): unknown => {
    outages?.up();
    return value;
  };
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let wrapper = wrapped.get(property);
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        const operation = String(property);
        wrapper = (...args: unknown[]): unknown => {
          let result: unknown;
          try {
            result = method.apply(target, args);
          } catch (error) {
            throw classify(operation, error);
          }
          return result instanceof Promise ? result.then(answered, (error: unknown) => Promise.reject(classify(operation, error))) : result;
        };
        wrapped.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
