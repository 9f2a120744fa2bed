import { checkBrowserSessionUser, type BrowserSession, type BrowserSessionStore, type NewBrowserSession } from '../browser-sessions';
import type { Durability } from './durability';
import { keys, userKeys } from './keys';
import type { RedisLayout } from './layout';
import { bindScripts, type RedisClient, type Scripts } from './scripts';

/** A session from HGETALL's flat [field, value, ...] reply; undefined for an empty one. */
function decodeSession(id: string, reply: readonly string[]): BrowserSession | undefined {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
  if (!fields.uid) return undefined;
  return {
    id,
    userId: fields.uid,
    createdAt: Number(fields.created),
    authenticatedAt: Number(fields.auth),
    lastSeenAt: Number(fields.last),
    absoluteExpiresAt: Number(fields.abs),
    idleExpiresAt: Number(fields.idle),
  };
}

/**
 * Browser sessions on Redis: each under its user's tag, beside the user's index of them, so
 * that every step (one Lua script each) touches one slot on a cluster.
 */
export class RedisBrowserSessions implements BrowserSessionStore {
  private readonly scripts: Scripts;

  constructor(
    redis: RedisClient,
    private readonly layout: RedisLayout,
    durability?: Durability,
  ) {
    this.scripts = bindScripts(redis, durability);
  }

  async createBrowserSession(session: NewBrowserSession, now: number): Promise<void> {
    checkBrowserSessionUser(session);
    await this.scripts.createBrowserSession([keys.browserSession(session.id), userKeys(session.userId).browserSessions], session.id, session.userId, now, session.absoluteExpiresAt, session.idleTtlMs);
  }

  async touchBrowserSession(id: string, idleTtlMs: number, now: number): Promise<BrowserSession | undefined> {
    return decodeSession(id, await this.scripts.touchBrowserSession([keys.browserSession(id)], now, idleTtlMs));
  }

  async endBrowserSession(id: string, now: number): Promise<BrowserSession | undefined> {
    return decodeSession(id, await this.scripts.endBrowserSession([keys.browserSession(id)], id, now, this.layout.keyPrefix));
  }

  async endUserBrowserSessions(userId: string, now: number): Promise<number> {
    return this.scripts.endUserBrowserSessions([userKeys(userId).browserSessions], now, this.layout.keyPrefix);
  }
}
