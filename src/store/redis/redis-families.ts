import type { Redis } from 'ioredis';
import { isLive, MAX_TRACKED_GENERATIONS, type RevokeByTokenResult, type Family, type FamilyPolicy, type FamilyStore, type NewFamily, type Rotation, type RotationResult, type SubjectSnapshot } from '../families';
import { decodeFamily, familyFields, subjectFields } from './family-codec';
import { keys } from './keys';
import { defineScript } from './scripts';

interface FamilyScripts {
  rotateFamily(familyKey: string, usedKey: string, ...args: Array<string | number>): Promise<string[]>;
  revokeFamily(familyKey: string, usedKey: string, now: number, retentionMs: number): Promise<string[]>;
  revokeFamilyByToken(familyKey: string, usedKey: string, secretHash: string, clientId: string, now: number, retentionMs: number): Promise<string>;
  reauthenticateFamily(familyKey: string, now: number): Promise<number>;
  setFamilySubject(familyKey: string, now: number, roles: string, scopes: string, at: number): Promise<number>;
}

type FamilyRedis = Redis & FamilyScripts;

/** Refresh-token families on Redis: rotation and revocation are Lua scripts, one round trip. */
export class RedisFamilies implements FamilyStore {
  private readonly redis: FamilyRedis;

  constructor(redis: Redis) {
    defineScript(redis, 'rotateFamily', 'rotate-family', 2);
    defineScript(redis, 'revokeFamily', 'revoke-family', 2);
    defineScript(redis, 'revokeFamilyByToken', 'revoke-family-by-token', 2);
    defineScript(redis, 'reauthenticateFamily', 'reauthenticate-family', 1);
    defineScript(redis, 'setFamilySubject', 'set-family-subject', 1);
    this.redis = redis as FamilyRedis;
  }

  async createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }> {
    const absolute = now + policy.absoluteTtlMs;
    const idle = Math.min(now + policy.idleTtlMs, absolute);
    const index = keys.userFamilies(family.userId);
    // Two slots (family, user index): a pipeline, not a transaction. An index entry without its
    // family is harmless — it is pruned on the next read.
    await this.redis
      .pipeline()
      .hset(keys.family(family.id), familyFields(family, now, absolute, idle))
      .pexpire(keys.family(family.id), idle - now)
      .zadd(index, now, family.id)
      .pexpire(index, policy.absoluteTtlMs)
      .exec();
    const sameClient = (await this.listFamilies(family.userId, now)).filter((f) => f.clientId === family.clientId);
    const excess = sameClient.slice(0, Math.max(0, sameClient.length - policy.maxPerUserClient));
    for (const oldest of excess) await this.revokeFamily(oldest.id, policy, now);
    return { evicted: excess.map((f) => f.id) };
  }

  async rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult> {
    const reply = await this.redis.rotateFamily(
      keys.family(rotation.familyId),
      keys.familyUsed(rotation.familyId),
      rotation.presentedHash,
      rotation.nextHash,
      rotation.successorBox,
      now,
      policy.idleTtlMs,
      policy.graceMs,
      policy.revokedRetentionMs,
      MAX_TRACKED_GENERATIONS,
      rotation.clientId,
    );
    const [outcome, ...rest] = reply;
    if (outcome === 'rotated' || outcome === 'reused') {
      const family = decodeFamily(rotation.familyId, rest);
      if (family) return { outcome, family };
    }
    if (outcome === 'replayed') {
      const [box, ...fields] = rest;
      const family = decodeFamily(rotation.familyId, fields);
      if (family && box) return { outcome, family, successorBox: box };
    }
    if (outcome === 'revoked' || outcome === 'expired' || outcome === 'unknown' || outcome === 'invalid' || outcome === 'wrong_client') return { outcome };
    throw new Error(`unexpected rotation reply: ${String(outcome)}`);
  }

  async getFamily(familyId: string): Promise<Family | undefined> {
    return decodeFamily(familyId, await this.redis.hgetall(keys.family(familyId)));
  }

  async revokeFamily(familyId: string, policy: FamilyPolicy, now: number): Promise<Family | undefined> {
    const before = await this.redis.revokeFamily(keys.family(familyId), keys.familyUsed(familyId), now, policy.revokedRetentionMs);
    return before.length > 0 ? decodeFamily(familyId, before) : undefined;
  }

  async listFamilies(userId: string, now: number): Promise<Family[]> {
    const index = keys.userFamilies(userId);
    const ids = await this.redis.zrange(index, '0', '-1');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.family(id));
    const replies = (await pipeline.exec()) ?? [];
    const live: Family[] = [];
    const dead: string[] = [];
    ids.forEach((id, i) => {
      const family = decodeFamily(id, (replies[i]?.[1] as Record<string, string> | undefined) ?? {});
      if (family && isLive(family, now)) live.push(family);
      else dead.push(id);
    });
    if (dead.length > 0) await this.redis.zrem(index, ...dead);
    return live.sort((a, b) => a.createdAt - b.createdAt);
  }

  async currentFamily(familyId: string, secretHash: string, now: number): Promise<Family | undefined> {
    const fields = await this.redis.hgetall(keys.family(familyId));
    const family = decodeFamily(familyId, fields);
    return family && fields.cur === secretHash && isLive(family, now) ? family : undefined;
  }

  async revokeFamilyByToken(familyId: string, clientId: string, secretHash: string, policy: FamilyPolicy, now: number): Promise<RevokeByTokenResult> {
    const reply = await this.redis.revokeFamilyByToken(keys.family(familyId), keys.familyUsed(familyId), secretHash, clientId, now, policy.revokedRetentionMs);
    if (reply === 'revoked' || reply === 'wrong_client' || reply === 'none') return reply;
    throw new Error(`unexpected revocation reply: ${reply}`);
  }

  async reauthenticateFamily(familyId: string, now: number): Promise<boolean> {
    return (await this.redis.reauthenticateFamily(keys.family(familyId), now)) === 1;
  }

  async setFamilySubject(familyId: string, subject: SubjectSnapshot, now: number): Promise<boolean> {
    const { sr, ss, sat } = subjectFields(subject);
    return (await this.redis.setFamilySubject(keys.family(familyId), now, sr, ss, Number(sat))) === 1;
  }

  async revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string): Promise<number> {
    let revoked = 0;
    for (const family of await this.listFamilies(userId, now)) {
      if (family.id !== except && (await this.revokeFamily(family.id, policy, now))) revoked += 1;
    }
    // The index keeps the family that stays; the revoked ones are pruned on its next read.
    if (except === undefined) await this.redis.del(keys.userFamilies(userId));
    return revoked;
  }
}
