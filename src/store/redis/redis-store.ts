import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Family, FamilyPolicy, NewFamily, RevokeByTokenResult, Rotation, RotationResult, SubjectSnapshot } from '../families';
import type { RevocationState, TokenStore } from '../token-store';
import { keys } from './keys';
import { RedisFamilies, type FamilyScripts } from './redis-families';

interface Scripts {
  revokeUser(key: string, epoch: number, expiresAt: number, ttlSec: number): Promise<number>;
}

type ScriptedRedis = Redis & Scripts & FamilyScripts;

function script(name: string): string {
  return readFileSync(path.join(__dirname, `${name}.lua`), 'utf8');
}

export interface RedisStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly connectTimeoutMs?: number;
}

/** Creates the client. Commands fail fast while disconnected instead of queueing: an auth
 *  check that waits for Redis to return is worse than a prompt 503 the caller can retry. */
export function createRedisClient({ url, keyPrefix, connectTimeoutMs = 2000 }: RedisStoreOptions): Redis {
  return new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
}

/** An epoch hash's value (HMGET epoch exp) while it lasts, else 0. */
function liveEpoch(reply: unknown, now: number): number {
  const [epoch, expires] = (reply as (string | null)[] | undefined) ?? [];
  return Number(expires ?? 0) > now ? Number(epoch ?? 0) : 0;
}

export class RedisTokenStore implements TokenStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;
  private readonly families: RedisFamilies;

  constructor(redis: Redis) {
    redis.defineCommand('revokeUser', { numberOfKeys: 1, lua: script('revoke-user') });
    redis.defineCommand('rotateFamily', { numberOfKeys: 2, lua: script('rotate-family') });
    redis.defineCommand('revokeFamily', { numberOfKeys: 2, lua: script('revoke-family') });
    redis.defineCommand('revokeFamilyByToken', { numberOfKeys: 2, lua: script('revoke-family-by-token') });
    redis.defineCommand('reauthenticateFamily', { numberOfKeys: 1, lua: script('reauthenticate-family') });
    redis.defineCommand('setFamilySubject', { numberOfKeys: 1, lua: script('set-family-subject') });
    this.redis = redis as ScriptedRedis;
    this.families = new RedisFamilies(this.redis);
  }

  /** Connects, waiting at most the client's connect timeout. A failure is not fatal: the
   *  client keeps retrying in the background and /readyz reports the outage meanwhile. */
  async connect(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  async blacklistAccessToken(jti: string, expiresAt: number, now: number): Promise<void> {
    const ttl = expiresAt - now;
    if (ttl <= 0) return;
    await this.redis.set(keys.blacklist(jti), String(expiresAt), 'EX', ttl);
  }

  async revokeUserTokensBefore(userId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    await this.redis.revokeUser(keys.userEpoch(userId), epoch, now + ttlSec, ttlSec);
  }

  async revokeClientTokensBefore(clientId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    await this.redis.revokeUser(keys.clientEpoch(clientId), epoch, now + ttlSec, ttlSec);
  }

  async revocationState(jti: string, userId: string, now: number, familyId?: string, clientId?: string): Promise<RevocationState> {
    // One pipeline, one round trip. The keys live in different slots, so this is a pipeline
    // rather than a script (issue 13 regroups them for Redis Cluster).
    const pipeline = this.redis.pipeline().get(keys.blacklist(jti)).hmget(keys.userEpoch(userId), 'epoch', 'exp');
    pipeline.hmget(keys.clientEpoch(clientId ?? ''), 'epoch', 'exp');
    if (familyId !== undefined) pipeline.hget(keys.family(familyId), 'state');
    const replies = await pipeline.exec();
    if (!replies) throw new Error('redis pipeline returned no replies');
    const [blacklistReply, epochReply, clientEpochReply, familyReply] = replies;
    for (const reply of replies) if (reply[0]) throw reply[0];
    const blacklistedUntil = Number(blacklistReply?.[1] ?? 0);
    return {
      blacklisted: blacklistedUntil > now,
      userRevokedBefore: liveEpoch(epochReply?.[1], now),
      familyRevoked: familyReply?.[1] === 'revoked',
      clientRevokedBefore: clientId === undefined ? 0 : liveEpoch(clientEpochReply?.[1], now),
    };
  }

  createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }> {
    return this.families.createFamily(family, policy, now);
  }

  rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult> {
    return this.families.rotate(rotation, policy, now);
  }

  getFamily(familyId: string): Promise<Family | undefined> {
    return this.families.getFamily(familyId);
  }

  revokeFamily(familyId: string, policy: FamilyPolicy, now: number): Promise<Family | undefined> {
    return this.families.revokeFamily(familyId, policy, now);
  }

  listFamilies(userId: string, now: number): Promise<Family[]> {
    return this.families.listFamilies(userId, now);
  }

  revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string): Promise<number> {
    return this.families.revokeUserFamilies(userId, policy, now, except);
  }

  currentFamily(familyId: string, secretHash: string, now: number): Promise<Family | undefined> {
    return this.families.currentFamily(familyId, secretHash, now);
  }

  revokeFamilyByToken(familyId: string, clientId: string, secretHash: string, policy: FamilyPolicy, now: number): Promise<RevokeByTokenResult> {
    return this.families.revokeFamilyByToken(familyId, clientId, secretHash, policy, now);
  }

  reauthenticateFamily(familyId: string, now: number): Promise<boolean> {
    return this.families.reauthenticateFamily(familyId, now);
  }

  setFamilySubject(familyId: string, subject: SubjectSnapshot, now: number): Promise<boolean> {
    return this.families.setFamilySubject(familyId, subject, now);
  }
}
