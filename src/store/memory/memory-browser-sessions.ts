import type { BrowserSession, BrowserSessionStore, NewBrowserSession } from '../browser-sessions';
import { checkBrowserSessionUser, isLiveBrowserSession } from '../browser-sessions';

const COLLECT_EVERY = 256;

/**
 * The in-process twin of the Redis browser-session scripts. Each method runs to completion
 * without awaiting, so on Node's single thread every operation is atomic, as a Lua script is.
 */
export class MemoryBrowserSessions implements BrowserSessionStore {
  private readonly sessions = new Map<string, BrowserSession>();
  private readonly byUser = new Map<string, Set<string>>();
  private creations = 0;

  clear(): void {
    this.sessions.clear();
    this.byUser.clear();
  }

  async createBrowserSession(input: NewBrowserSession, now: number): Promise<void> {
    checkBrowserSessionUser(input);
    this.collect(now);
    const idleExpiresAt = Math.min(now + input.idleTtlMs, input.absoluteExpiresAt);
    if (idleExpiresAt <= now) return;
    this.sessions.set(input.id, { id: input.id, userId: input.userId, createdAt: now, authenticatedAt: now, lastSeenAt: now, absoluteExpiresAt: input.absoluteExpiresAt, idleExpiresAt });
    const ids = this.byUser.get(input.userId) ?? new Set<string>();
    ids.add(input.id);
    this.byUser.set(input.userId, ids);
  }

  async touchBrowserSession(id: string, idleTtlMs: number, now: number): Promise<BrowserSession | undefined> {
    const session = this.live(id, now);
    if (!session) return undefined;
    const touched = { ...session, lastSeenAt: now, idleExpiresAt: Math.min(now + idleTtlMs, session.absoluteExpiresAt) };
    this.sessions.set(id, touched);
    return touched;
  }

  async endBrowserSession(id: string, now: number): Promise<BrowserSession | undefined> {
    const session = this.live(id, now);
    this.forget(id);
    return session;
  }

  async endUserBrowserSessions(userId: string, now: number): Promise<number> {
    let ended = 0;
    for (const id of this.byUser.get(userId) ?? []) {
      if (this.live(id, now)) ended += 1;
      this.sessions.delete(id);
    }
    this.byUser.delete(userId);
    return ended;
  }

  private live(id: string, now: number): BrowserSession | undefined {
    const session = this.sessions.get(id);
    return session && isLiveBrowserSession(session, now) ? session : undefined;
  }

  private forget(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    const ids = this.byUser.get(session.userId);
    ids?.delete(id);
    if (ids?.size === 0) this.byUser.delete(session.userId);
  }

  // What Redis TTLs do: forget dead sessions, in batches on creation.
  private collect(now: number): void {
    this.creations += 1;
    if (this.creations % COLLECT_EVERY !== 0) return;
    for (const [id, session] of this.sessions) if (!isLiveBrowserSession(session, now)) this.forget(id);
  }
}
