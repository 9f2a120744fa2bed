/** One server-sent event as a test reads it. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * A feed connection read with fetch: the response, and `next(type)` resolving with the next
 * event of that type (every event read is kept in `events`; comments count in `comments`).
 */
export interface SseConnection {
  readonly response: Response;
  readonly events: SseEvent[];
  comments: number;
  next(event: string, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const waiters: Array<{ event: string; from: number; resolve: (e: SseEvent) => void }> = [];
  const connection: SseConnection = {
    response,
    events,
    comments: 0,
    next(event, timeoutMs = 5000) {
      const from = events.length;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ event, from, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => abort.abort(),
  };
  const consumed = new Map<(typeof waiters)[number], number>();
  const dispatch = () => {
    for (const waiter of [...waiters]) {
      const at = consumed.get(waiter) ?? waiter.from;
      const found = events.slice(at).find((e) => e.event === waiter.event);
      if (found) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  };
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = new Map<string, string>();
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) connection.comments += 1;
              const colon = line.indexOf(':');
              if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
            }
            if (fields.has('data')) events.push({ id: fields.get('id'), event: fields.get('event') ?? 'message', data: fields.get('data') as string });
            dispatch();
          }
        }
      } catch {
        // Aborted by close().
      }
    })();
  }
  return connection;
}
