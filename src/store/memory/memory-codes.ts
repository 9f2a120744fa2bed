import type { AuthorizationCode, CodeIssue, CodeRedemption, CodeStore } from '../codes';

interface Entry {
  readonly code: AuthorizationCode;
  state: 'live' | 'spent' | 'replayed';
  issued: CodeIssue | undefined;
  /** Until when the entry means anything: the code's expiry, then (once spent) its retention. */
  until: number;
}

const COLLECT_EVERY = 256;

const copyCode = (code: AuthorizationCode): AuthorizationCode => ({ ...code, scope: [...code.scope] });

/**
 * The in-process twin of the Redis code scripts. Each method runs to completion without
 * awaiting, so on Node's single thread every operation is atomic, as a Lua script is.
 */
export class MemoryCodes implements CodeStore {
  private readonly codes = new Map<string, Entry>();
  private saves = 0;

  clear(): void {
    this.codes.clear();
  }

  async saveCode(codeHash: string, code: AuthorizationCode, now: number): Promise<void> {
    this.collect(now);
    if (this.live(codeHash, now)) throw new Error('authorization code already saved');
    if (code.expiresAt <= now) return;
    this.codes.set(codeHash, { code: copyCode(code), state: 'live', issued: undefined, until: code.expiresAt });
  }

  async redeemCode(codeHash: string, retainMs: number, now: number): Promise<CodeRedemption> {
    const entry = this.live(codeHash, now);
    if (!entry) return { outcome: 'unknown' };
    if (entry.state === 'live') {
      entry.state = 'spent';
      entry.until = now + retainMs;
      return { outcome: 'redeemed', code: copyCode(entry.code) };
    }
    entry.state = 'replayed';
    return { outcome: 'replayed', code: copyCode(entry.code), issued: entry.issued };
  }

  async recordCodeIssue(codeHash: string, issued: CodeIssue, now: number): Promise<'recorded' | 'replayed'> {
    const entry = this.live(codeHash, now);
    if (entry?.state === 'live') throw new Error('authorization code issue recorded before its redemption');
    if (!entry) return 'replayed';
    entry.issued = { ...issued };
    return entry.state === 'replayed' ? 'replayed' : 'recorded';
  }

  private live(codeHash: string, now: number): Entry | undefined {
    const entry = this.codes.get(codeHash);
    return entry && now < entry.until ? entry : undefined;
  }

  // What Redis TTLs do: forget dead entries, in batches on saves.
  private collect(now: number): void {
    this.saves += 1;
    if (this.saves % COLLECT_EVERY !== 0) return;
    for (const [hash, entry] of this.codes) if (entry.until <= now) this.codes.delete(hash);
  }
}
