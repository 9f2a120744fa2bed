import type { AnyEvent, EventMap, EventName } from './catalogue';

export type Listener<K extends EventName> = (payload: EventMap[K]) => void;
export type AnyListener = (event: AnyEvent) => void;

/** Told about a listener that threw; the hub itself never throws from `emit`. */
export type ListenerErrorHandler = (error: unknown, name: EventName | undefined) => void;

/**
 * The typed event hub (`deps.events`): code that knows a security-relevant fact emits it once,
 * and the log, the audit trail and the metrics subscribe. Synchronous and in-process: `emit`
 * calls each listener in order of subscription before it returns, so a listener's side effects
 * (a log line) happen in the request that caused them. A listener that throws is reported to
 * `onListenerError` and skipped: an observer can never break the request it observes.
 * Listeners must be cheap (introspection emits on the hot path); anything slow buffers.
 */
export class EventHub {
  private readonly listeners = new Map<EventName, Array<(payload: never) => void>>();
  private readonly anyListeners: AnyListener[] = [];
  private readonly closers: Array<() => void> = [];

  constructor(private readonly onListenerError: ListenerErrorHandler = () => undefined) {}

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends EventName>(name: K, listener: Listener<K>): () => void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as (payload: never) => void);
    this.listeners.set(name, list);
    return () => {
      const index = list.indexOf(listener as (payload: never) => void);
      if (index >= 0) list.splice(index, 1);
    };
  }

  /** Subscribes to every event (the log and the audit trail); returns the unsubscribe function. */
  onAny(listener: AnyListener): () => void {
    this.anyListeners.push(listener);
    return () => {
      const index = this.anyListeners.indexOf(listener);
      if (index >= 0) this.anyListeners.splice(index, 1);
    };
  }

  /** Ties a subscriber's resource (the audit file) to the hub: released by close(). */
  addCloser(close: () => void): void {
    this.closers.push(close);
  }

  /** At shutdown, after the last request: releases what subscribers hold. Safe to call twice. */
  close(): void {
    for (const close of this.closers.splice(0)) {
      try {
        close();
      } catch (error) {
        this.reportListenerError(error, undefined);
      }
    }
  }

  emit<K extends EventName>(name: K, payload: EventMap[K]): void {
    const list = this.listeners.get(name);
    if (list) {
      for (const listener of list) {
        try {
          (listener as Listener<K>)(payload);
        } catch (error) {
          this.reportListenerError(error, name);
        }
      }
    }
    if (this.anyListeners.length === 0) return;
    const event = { name, payload } as AnyEvent;
    for (const listener of this.anyListeners) {
      try {
        listener(event);
      } catch (error) {
        this.reportListenerError(error, name);
      }
    }
  }

  private reportListenerError(error: unknown, name: EventName | undefined): void {
    try {
      this.onListenerError(error, name);
    } catch {
      // The error handler itself failed (a broken log stream): nothing better to do.
    }
  }
}
