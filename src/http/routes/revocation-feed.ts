import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import { nowSeconds } from '../../clock';
import type { Deps } from '../../deps';
import { FEED_FULL_RETRY_AFTER_SEC, FeedSubscribers } from '../../oauth/feed-subscribers';
import { SSE_HEARTBEAT, SSE_READY, SSE_RETRY, sseEvent } from '../../oauth/feed-wire';
import { authenticateCaller } from '../../oauth/introspection';
import { OAuthError } from '../../oauth/errors';
import { compareFeedIds, type FeedEvent } from '../../store/revocation-feed';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { defineRoute } from '../openapi/route';
import { oauthErrorSchema } from '../../oauth/schemas';
import { newRouter } from './router';

/** Live events one stream may hold unread, beyond its replay. */
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

export interface FeedRouteOptions {
  readonly subscribers?: FeedSubscribers;
  /** Between two comment lines on an idle stream (ms); below common proxy idle timeouts (60 s). */
  readonly heartbeatMs?: number;
}

/**
 * GET /oauth/revocations (issue 17): the revocation feed as server-sent events, for the callers
 * introspection accepts (RFC 7662 §2.1: confidential, allowed to introspect; HTTP Basic, as a GET
 * has no form). Such a caller can already ask about any token it holds; the feed tells it the
 * same facts (which jti, family, user or client is revoked) before it asks, for tokens it may
 * never see: the identifiers of other users' revocations. That is the trade-off README states.
 * Nothing here is on a hot path: a subscription is one replay, then pushes.
 */
export function revocationFeedRoutes(deps: Deps, hot: HotPaths, options: FeedRouteOptions = {}): Router<AppState> {
  const router = newRouter();
  const subscribers = options.subscribers ?? new FeedSubscribers();
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  const oauthError = (description: string) => ({ description, schema: oauthErrorSchema });
  defineRoute(router, {
    method: 'get',
    path: '/oauth/revocations',
    operationId: 'revocationFeed',
    summary: 'Revocation feed (server-sent events)',
    description:
      'For confidential clients allowed to introspect (HTTP Basic). Replays every revocation still relevant, then `ready`, then live ones: events `jti` {jti, exp}, `sid` {sid, until}, `user` {sub, epoch, until}, `client` {client_id, epoch, until}; identifiers only. Send Last-Event-ID to resume.',
    tags: ['OAuth'],
    auth: { kind: 'client' },
    responses: {
      200: { description: 'text/event-stream; Cache-Control: no-store', contentType: 'text/event-stream' },
      401: { ...oauthError('invalid_client: no or wrong client credentials'), headers: { 'WWW-Authenticate': 'Basic' } },
      403: oauthError('unauthorized_client: this client may not introspect'),
      503: { ...oauthError('temporarily_unavailable: too many feed subscribers, or the token store cannot be reached'), headers: { 'Retry-After': 'seconds' } },
    },
  }, async (ctx) => {
    const feed = deps.revocationFeed;
    if (!feed) return;
    const caller = await authenticateCaller({ ...deps, ...hot }, { params: new Map(), authorization: ctx.get('authorization') || undefined, ip: ctx.ip, requestId: ctx.state.requestId });
    ctx.state.client = { id: caller.client.id, secretId: caller.secretId };
    let release: () => void;
    const stream = new PassThrough();
    try {
      release = subscribers.acquire(caller.client.id, () => stream.end());
    } catch (error) {
      if (error instanceof OAuthError) ctx.set('Retry-After', String(FEED_FULL_RETRY_AFTER_SEC));
      throw error;
    }
    // Live entries are held from before the replay is read, so none falls between the two.
    const held: FeedEvent[] = [];
    let sink: ((event: FeedEvent) => void) | undefined;
    const unsubscribe = feed.subscribe((event) => (sink ? sink(event) : held.push(event)));
    let replayed: FeedEvent[];
    try {
      replayed = await feed.replay(ctx.get('last-event-id') || undefined, nowSeconds(deps.clock));
    } catch (error) {
      unsubscribe();
      release();
      throw error;
    }
    if (ctx.req.socket.destroyed) {
      // Gone during the replay: no 'close' will come for a listener added now.
      unsubscribe();
      release();
      return;
    }
    // Ended meanwhile (a drain): nothing more is written.
    const write = (text: string) => void (stream.writableEnded || stream.write(text));
    const heartbeat = setInterval(() => write(SSE_HEARTBEAT), heartbeatMs);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      release();
      stream.end();
    };
    // The response's 'close': sent in full, or the connection went away (the subscriber left).
    ctx.res.once('close', end);
    stream.once('finish', end);
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    // The events say which tokens are revoked now: never stored by a cache (RFC 9111 §5.2.2.5).
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.type = 'text/event-stream; charset=utf-8';
    ctx.status = 200;
    ctx.body = stream;
    write(SSE_RETRY);
    let last = replayed.at(-1)?.id;
    let replayBytes = 0;
    for (const event of replayed) {
      const text = sseEvent(event);
      replayBytes += text.length;
      write(text);
    }
    write(SSE_READY);
    sink = (event) => {
      // Already replayed, or (the reader's first catch-up) already irrelevant.
      if ((last !== undefined && compareFeedIds(event.id, last) <= 0) || event.entry.until <= nowSeconds(deps.clock)) return;
      last = event.id;
      // A subscriber that stops reading while revocations keep coming would make this instance
      // buffer them without end: past the bound (beyond its replay) its stream ends, and it
      // resumes from its Last-Event-ID when it reconnects.
      if (stream.writableLength > MAX_UNREAD_BYTES + replayBytes) stream.end();
      else write(sseEvent(event));
    };
    for (const event of held.splice(0)) sink(event);
  });
  return router;
}
