/**
 * The revocation feed (issue 17): every revocation written on any instance, in order, so that
 * resource services verifying tokens locally (the verifier's jwks mode with `revocations:
 * 'push'`) can keep a deny-set. Entries carry identifiers only, never a token or a secret.
 *
 * Each entry lives until the tokens it affects would have expired anyway (`until`, Unix s): an
 * access token's own `exp`; a family ACCESS_TOKEN_TTL after it was revoked; a user or client
 * epoch, and a data loss, a day after it (the longest ACCESS_TOKEN_TTL allowed: whoever wrote it,
 * a CLI run included, any instance's tokens from before it are gone by then). Ids are Redis stream ids
 * (`<ms>-<seq>`) on both backends, so a subscriber's Last-Event-ID means the same everywhere.
 */

export type RevocationEntry =
  /** One access token (RFC 7009), by its `jti`, until its `exp`. */
  | { readonly type: 'jti'; readonly jti: string; readonly until: number }
  /** A refresh-token family (the access tokens' `sid`): revoked, reuse detected, signed out. */
  | { readonly type: 'sid'; readonly sid: string; readonly until: number }
  /** Tokens of user `sub` issued at or before `epoch` (Unix ms). */
  | { readonly type: 'user'; readonly sub: string; readonly epoch: number; readonly until: number }
  /** Tokens issued to `clientId` at or before `epoch` (Unix ms): a deleted client. */
  | { readonly type: 'client'; readonly clientId: string; readonly epoch: number; readonly until: number }
  /**
   * Every token issued before `before` (Unix ms): the store lost its data then (a Redis restarted
   * empty), and with it every revocation, and this feed's own entries. Written once the service
   * sees the loss (store/redis/generations.ts), so a subscriber whose replay starts after it
   * refuses those tokens as the service does.
   */
  | { readonly type: 'lost'; readonly before: number; readonly until: number };

export interface FeedEvent {
  readonly id: string;
  readonly entry: RevocationEntry;
}

export interface RevocationFeed {
  /** Appends one entry; rejects when the backend did not take it. */
  publish(entry: RevocationEntry): Promise<void>;
  /**
   * Entries still relevant at `now` (Unix s), oldest first. With `after` (a Last-Event-ID), only
   * those after it, unless the feed does not know that point (it is ahead of the newest entry:
   * the backend lost its data or the id is made up), when it is everything.
   */
  replay(after: string | undefined, now: number): Promise<FeedEvent[]>;
  /**
   * Entries published from now on, on any instance; returns the function that stops it. It may
   * also deliver earlier ones (the Redis reader catches up from the stream's start when it first
   * starts): a subscriber drops what its replay already had, by id.
   */
  subscribe(listener: (event: FeedEvent) => void): () => void;
  close(): Promise<void>;
}

const ID = /^(\d{1,16})-(\d{1,16})$/;

/** A stream id as a pair of numbers, or undefined when it is not one (a client-supplied header). */
export function parseFeedId(id: string | undefined): readonly [number, number] | undefined {
  const match = id === undefined ? null : ID.exec(id);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Orders two well-formed ids (negative: a first). */
export function compareFeedIds(a: string, b: string): number {
  const [am, as] = parseFeedId(a) ?? [0, 0];
  const [bm, bs] = parseFeedId(b) ?? [0, 0];
  return am - bm || as - bs;
}

/** The entry as stored (flat string fields) and back; undefined for anything malformed. */
export function encodeEntry(entry: RevocationEntry): string[] {
  switch (entry.type) {
    case 'jti':
      return ['t', 'jti', 'i', entry.jti, 'u', String(entry.until)];
    case 'sid':
      return ['t', 'sid', 'i', entry.sid, 'u', String(entry.until)];
    case 'user':
      return ['t', 'user', 'i', entry.sub, 'e', String(entry.epoch), 'u', String(entry.until)];
    case 'client':
      return ['t', 'client', 'i', entry.clientId, 'e', String(entry.epoch), 'u', String(entry.until)];
    case 'lost':
      return ['t', 'lost', 'i', '*', 'e', String(entry.before), 'u', String(entry.until)];
  }
}

export function decodeEntry(fields: readonly string[]): RevocationEntry | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const id = map.get('i');
  const until = Number(map.get('u'));
  const epoch = Number(map.get('e'));
  if (id === undefined || !Number.isFinite(until)) return undefined;
  switch (map.get('t')) {
    case 'jti':
      return { type: 'jti', jti: id, until };
    case 'sid':
      return { type: 'sid', sid: id, until };
    case 'user':
      return Number.isFinite(epoch) ? { type: 'user', sub: id, epoch, until } : undefined;
    case 'client':
      return Number.isFinite(epoch) ? { type: 'client', clientId: id, epoch, until } : undefined;
    case 'lost':
      return Number.isFinite(epoch) ? { type: 'lost', before: epoch, until } : undefined;
    default:
      return undefined;
  }
}
