// A minimal server-sent events parser (WHATWG HTML §9.2.6, "Interpreting an event stream"):
// enough for the revocation feed, so the package keeps depending on jose alone.

export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  /** The stream's last event id after this event (what Last-Event-ID resumes from). */
  readonly lastEventId: string | undefined;
}

/** Feed it text chunks as they arrive; it calls `onEvent` per complete event and `onLine` per line. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private lastEventId: string | undefined;
  private afterCr = false;

  constructor(
    private readonly onEvent: (event: ServerSentEvent) => void,
    /** Any line at all, comments (heartbeats) included: the stream is alive. */
    private readonly onLine: () => void = () => undefined,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    // A CR ended the previous chunk's last line: an LF right after it belongs to that line end.
    if (this.afterCr && this.buffer.startsWith('\n')) this.buffer = this.buffer.slice(1);
    this.afterCr = false;
    let end: number;
    while ((end = this.lineEnd()) >= 0) {
      const line = this.buffer.slice(0, end);
      // CRLF, LF and CR all end a line.
      const crlf = this.buffer[end] === '\r' && this.buffer[end + 1] === '\n';
      if (this.buffer[end] === '\r' && end === this.buffer.length - 1) this.afterCr = true;
      this.buffer = this.buffer.slice(end + (crlf ? 2 : 1));
      this.line(line);
    }
  }

  private lineEnd(): number {
    const lf = this.buffer.indexOf('\n');
    const cr = this.buffer.indexOf('\r');
    if (cr < 0) return lf;
    if (lf < 0) return cr;
    return Math.min(cr, lf);
  }

  private line(line: string): void {
    this.onLine();
    if (line === '') {
      if (this.data.length > 0) this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
  }
}
