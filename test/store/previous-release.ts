import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FamilyPolicy, NewFamily } from '../../src/store/families';
import type { RevocationState } from '../../src/store/revocations';
import { familyFields } from '../../src/store/redis/family-codec';

// The Redis writes and reads of the release before user tags (commit 091d224), for the tests of
// a rolling upgrade on one node: what an instance of that release leaves in Redis, and what it
// reads there. Spelled out as that release spelled them (its keys.ts, redis-families.ts,
// redis-revocations.ts, revoke-user.lua), not through this release's legacyKeys, so a drift of
// legacyKeys from the real previous layout fails the tests instead of moving with them.

/** 091d224 src/store/redis/revoke-user.lua: moves an epoch forward, never back. */
const REVOKE_USER_LUA = `
local epoch = tonumber(ARGV[1])
local expires_at = tonumber(ARGV[2])
local current = redis.call('HMGET', KEYS[1], 'epoch', 'exp')
local current_epoch = tonumber(current[1] or '0')
local current_exp = tonumber(current[2] or '0')
if current_epoch > epoch then epoch = current_epoch end
if current_exp > expires_at then expires_at = current_exp end
redis.call('HSET', KEYS[1], 'epoch', epoch, 'exp', expires_at)
local ttl = tonumber(ARGV[3])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return epoch
`;

/** 091d224 keys.ts, verbatim. */
export const previousKeys = {
  blacklist: (jti: string) => `at:bl:${jti}`,
  userEpoch: (userId: string) => `user:{${userId}}:revoked`,
  clientEpoch: (clientId: string) => `client:{${clientId}}:revoked`,
  family: (familyId: string) => `rf:{${familyId}}`,
  familyUsed: (familyId: string) => `rf:{${familyId}}:used`,
  userFamilies: (userId: string) => `user:{${userId}}:families`,
};

function liveEpoch(reply: unknown, now: number): number {
  const [epoch, expires] = (reply as (string | null)[] | undefined) ?? [];
  return Number(expires ?? 0) > now ? Number(epoch ?? 0) : 0;
}

/** An instance of the previous release on the same Redis, with the same key prefix. */
export class PreviousRelease {
  /** A plain client with the store's key prefix (also for looking at what either release wrote). */
  readonly redis: Redis;

  constructor(url: string, readonly keyPrefix: string) {
    this.redis = new Redis(url, { keyPrefix });
  }

  /** 091d224 newFamilyId: 128 random bits, 22 characters, no user tag. */
  static newFamilyId(): string {
    for (;;) {
      const id = randomBytes(16).toString('base64url');
      if (id[0] !== '-') return id;
    }
  }

  /**
   * 091d224 RedisFamilies.createFamily, its writes: the family hash and the user's index, in a
   * pipeline. (Its session-limit loop after them is left out: the tests stay under the limit.)
   */
  async createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<void> {
    const absolute = now + policy.absoluteTtlMs;
    const idle = Math.min(now + policy.idleTtlMs, absolute);
    const index = previousKeys.userFamilies(family.userId);
    const results = await this.redis
      .pipeline()
      .hset(previousKeys.family(family.id), familyFields(family, now, absolute, idle))
      .pexpire(previousKeys.family(family.id), idle - now)
      .zadd(index, now, family.id)
      .pexpire(index, policy.absoluteTtlMs)
      .exec();
    for (const [error] of results ?? []) if (error) throw error;
  }

  /** 091d224 RedisRevocations.blacklistAccessToken (times in Unix seconds). */
  async blacklistAccessToken(jti: string, expiresAt: number, now: number): Promise<void> {
    const ttl = expiresAt - now;
    if (ttl <= 0) return;
    await this.redis.set(previousKeys.blacklist(jti), String(expiresAt), 'EX', ttl);
  }

  /** 091d224 RedisRevocations.revokeUserTokensBefore: epoch in ms, `now` in seconds. */
  async revokeUserTokensBefore(userId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    await this.redis.eval(REVOKE_USER_LUA, 1, previousKeys.userEpoch(userId), epoch, now + ttlSec, ttlSec);
  }

  /** 091d224 RedisRevocations.revokeClientTokensBefore. */
  async revokeClientTokensBefore(clientId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    await this.redis.eval(REVOKE_USER_LUA, 1, previousKeys.clientEpoch(clientId), epoch, now + ttlSec, ttlSec);
  }

  /** 091d224 RedisRevocations.revocationState: what its introspection reads about a token. */
  async revocationState(jti: string, userId: string, now: number, familyId?: string, clientId?: string): Promise<RevocationState> {
    const pipeline = this.redis.pipeline().get(previousKeys.blacklist(jti)).hmget(previousKeys.userEpoch(userId), 'epoch', 'exp');
    pipeline.hmget(previousKeys.clientEpoch(clientId ?? ''), 'epoch', 'exp');
    if (familyId !== undefined) pipeline.hget(previousKeys.family(familyId), 'state');
    const replies = await pipeline.exec();
    if (!replies) throw new Error('redis pipeline returned no replies');
    for (const reply of replies) if (reply[0]) throw reply[0];
    const [blacklistReply, epochReply, clientEpochReply, familyReply] = replies;
    return {
      blacklisted: Number(blacklistReply?.[1] ?? 0) > now,
      userRevokedBefore: liveEpoch(epochReply?.[1], now),
      familyRevoked: familyReply?.[1] === 'revoked',
      clientRevokedBefore: clientId === undefined ? 0 : liveEpoch(clientEpochReply?.[1], now),
      // The previous release had no generation markers.
      lostBefore: 0,
    };
  }

  /** 091d224 RedisFamilies.listFamilies, the ids only: what its "log out everywhere" walks. */
  async listedFamilyIds(userId: string): Promise<string[]> {
    return this.redis.zrange(previousKeys.userFamilies(userId), '0', '-1');
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
