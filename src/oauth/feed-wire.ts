import type { FeedEvent, RevocationEntry } from '../store/revocation-feed';

// The revocation feed on the wire: server-sent events (WHATWG HTML §9.2). Identifiers only:
// a jti, a family id (the tokens' `sid`), a user id (`sub`), a client id; never a token, a
// refresh secret or a client secret. Times: `exp`/`until` Unix seconds, `epoch` Unix ms.

function data(entry: RevocationEntry): Record<string, string | number> {
  switch (entry.type) {
    case 'jti':
      return { jti: entry.jti, exp: entry.until };
    case 'sid':
      return { sid: entry.sid, until: entry.until };
    case 'user':
      return { sub: entry.sub, epoch: entry.epoch, until: entry.until };
    case 'client':
      return { client_id: entry.clientId, epoch: entry.epoch, until: entry.until };
    case 'lost':
      return { before: entry.before, until: entry.until };
  }
}

/** One event; its id is what the subscriber sends back as Last-Event-ID to resume. */
export function sseEvent(event: FeedEvent): string {
  return `id: ${event.id}\nevent: ${event.entry.type}\ndata: ${JSON.stringify(data(event.entry))}\n\n`;
}

/** After the replay: everything still relevant has been sent; from here on, live entries. */
export const SSE_READY = 'event: ready\ndata: {}\n\n';

/** A comment line: ignored by parsers, keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT = ': keep-alive\n\n';

/** How long an EventSource waits before reconnecting (ms). */
export const SSE_RETRY = 'retry: 1000\n\n';
