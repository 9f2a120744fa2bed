import { DenySet } from '../../packages/verifier/dist/cjs/deny-set.js';
import { SseParser, type ServerSentEvent } from '../../packages/verifier/dist/cjs/sse-parser.js';

// The pieces of the verifier's push mode (issue 17) that need no server: its SSE parser
// (WHATWG HTML §9.2.6) and its deny-set. The built package, as resource services get it.

function parse(...chunks: string[]): { events: ServerSentEvent[]; lines: number } {
  const events: ServerSentEvent[] = [];
  let lines = 0;
  const parser = new SseParser((event) => events.push(event), () => (lines += 1));
  for (const chunk of chunks) parser.push(chunk);
  return { events, lines };
}

describe('the SSE parser (WHATWG HTML §9.2.6)', () => {
  it('reads events split anywhere across chunks, with LF, CRLF or CR line ends', () => {
    const { events } = parse('id: 1-0\nevent: jti\nda', 'ta: {"jti":"a"}\n', '\nid: 2-0\r', '\nevent: sid\r\ndata: {"sid":"s"}\r\n\r\nevent: ready\rdata: {}\r\r');
    expect(events).toEqual([
      { event: 'jti', data: '{"jti":"a"}', lastEventId: '1-0' },
      { event: 'sid', data: '{"sid":"s"}', lastEventId: '2-0' },
      // No id of its own: the last one seen stays (what Last-Event-ID resumes from).
      { event: 'ready', data: '{}', lastEventId: '2-0' },
    ]);
  });

  it('ignores comments (heartbeats) but counts them as signs of life; joins multi-line data', () => {
    const { events, lines } = parse(': keep-alive\n\n', 'data: one\ndata: two\n\n');
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo', lastEventId: undefined }]);
    expect(lines).toBeGreaterThanOrEqual(2);
  });
});

describe('the deny-set', () => {
  const now = 1_800_000_000;
  // A UUIDv7 whose first 48 bits are the issue time in ms (the server's jti).
  const v7 = (ms: number) => {
    const hex = ms.toString(16).padStart(12, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-8000-000000000000`;
  };
  const claims = (over: Partial<{ jti: string; sub: string; client_id: string; iat: number; sid: string }> = {}) => ({ jti: v7(now * 1000), sub: 'u1', client_id: 'c1', iat: now, ...over });

  it('denies a revoked jti until its exp, then forgets it', () => {
    const set = new DenySet(10);
    set.addJti('j', now + 60, now);
    expect(set.denies(claims({ jti: 'j' }), now)).toBe(true);
    expect(set.denies(claims({ jti: 'j' }), now + 60)).toBe(false);
  });

  it('denies every token of a revoked family (sid)', () => {
    const set = new DenySet(10);
    set.addSid('fam', now + 300, now);
    expect(set.denies(claims({ sid: 'fam' }), now)).toBe(true);
    expect(set.denies(claims({ sid: 'other' }), now)).toBe(false);
  });

  it('user and client epochs revoke tokens issued at or before them, to the millisecond of a v7 jti', () => {
    const set = new DenySet(10);
    const epoch = now * 1000 + 500;
    set.addUserEpoch('u1', epoch, now + 300, now);
    expect(set.denies(claims({ jti: v7(epoch) }), now)).toBe(true);
    expect(set.denies(claims({ jti: v7(epoch + 1) }), now)).toBe(false);
    expect(set.denies(claims({ jti: v7(epoch - 1), sub: 'u2' }), now)).toBe(false);
    set.addClientEpoch('c1', epoch, now + 300, now);
    expect(set.denies(claims({ jti: v7(epoch - 1), sub: 'u2' }), now)).toBe(true);
    // An older epoch replayed later does not move it back.
    set.addUserEpoch('u1', epoch - 10_000, now + 300, now);
    expect(set.denies(claims({ jti: v7(epoch) }), now)).toBe(true);
  });

  it('a loss of the server\'s data revokes every token issued before it, until the entry lapses', () => {
    const set = new DenySet(10);
    const before = now * 1000 + 500;
    set.addLost(before, now + 300, now);
    expect(set.denies(claims({ jti: v7(before - 1) }), now)).toBe(true);
    expect(set.denies(claims({ jti: v7(before) }), now)).toBe(false);
    // An older loss replayed later does not move it back.
    set.addLost(before - 10_000, now + 300, now);
    expect(set.denies(claims({ jti: v7(before - 1) }), now)).toBe(true);
    expect(set.denies(claims({ jti: v7(before - 1) }), now + 300)).toBe(false);
  });

  it('is bounded: beyond its size, once nothing has expired, it says it overflowed', () => {
    const set = new DenySet(2);
    set.addJti('a', now + 1, now);
    set.addJti('b', now + 60, now);
    // 'a' has expired by now + 2: pruned to make room.
    set.addJti('c', now + 60, now + 2);
    expect(set.overflowed).toBe(false);
    set.addJti('d', now + 60, now + 2);
    expect(set.overflowed).toBe(true);
    expect(set.size).toBe(2);
  });
});
