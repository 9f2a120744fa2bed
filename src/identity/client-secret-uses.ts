import type { Clock } from '../clock';
import type { Database } from '../db/database';
import type { Logger } from '../logging/logger';

/** How often the last uses of client secrets are written: each secret at most once per this. */
export const SECRET_USE_FLUSH_MS = 60_000;

/**
 * When each client secret was last used, for operators deciding whether an old secret can go
 * (`client show`). Authentication is on the introspection hot path (no database), so a use is
 * only noted in memory; what was noted is written in one statement a minute later, and on
 * shutdown (`flush`). So last_used_at lags real use by up to a minute per instance (a crash
 * loses at most that minute), and a secret is written at most once a minute per instance.
 */
export class SecretUseRecorder {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { readonly db: Database; readonly clock: Clock; readonly log: Logger },
    private readonly intervalMs = SECRET_USE_FLUSH_MS,
  ) {}

  /** Notes a use now; no I/O. */
  record(secretId: string): void {
    this.pending.set(secretId, this.deps.clock.now());
    // Unref'd: a pending write never keeps the process alive (shutdown flushes it).
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes every use noted so far (a stored later use is kept). Never throws: a failure is logged. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const uses = [...this.pending];
    this.pending = new Map();
    if (uses.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.write(uses));
    return this.flushing;
  }

  private async write(uses: ReadonlyArray<[string, number]>): Promise<void> {
    try {
      const values = uses.map(() => '(?, ?::timestamptz)').join(', ');
      await this.deps.db.raw(
        `update client_secrets as s set last_used_at = v.at from (values ${values}) as v(id, at)
         where s.id = v.id and (s.last_used_at is null or s.last_used_at < v.at)`,
        uses.flatMap(([id, at]) => [id, new Date(at).toISOString()]),
      );
    } catch (error) {
      this.deps.log.warn({ event: 'client_secret.last_use_not_saved', secrets: uses.length, err: error }, 'could not save when client secrets were last used');
    }
  }
}
