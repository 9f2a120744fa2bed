import type { Redis } from 'ioredis';
import type { RevocationState, RevocationStore } from '../revocations';
import { keys } from './keys';
import { defineScript } from './scripts';

interface RevocationScripts {
  revokeUser(key: string, epoch: number, expiresAt: number, ttlSec: number): Promise<number>;
}

/** An epoch hash's value (HMGET epoch exp) while it lasts, else 0. */
function liveEpoch(reply: unknown, now: number): number {
  const [epoch, expires] = (reply as (string | null)[] | undefined) ?? [];
  return Number(expires ?? 0) > now ? Number(epoch ?? 0) : 0;
}

/** Access-token blacklist and revocation epochs on Redis; the state read is one pipeline. */
export class RedisRevocations implements RevocationStore {
  private readonly redis: Redis & RevocationScripts;

  constructor(redis: Redis) {
    defineScript(redis, 'revokeUser', 'revoke-user', 1);
    this.redis = redis as Redis & RevocationScripts;
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
}
