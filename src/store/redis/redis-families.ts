import { isLive, MAX_TRACKED_GENERATIONS, type RevokeByTokenResult, type Family, type FamilyPolicy, type FamilyStore, type NewFamily, type Rotation, type RotationResult, type SubjectSnapshot } from '../families';
import { decodeFamily, familyFields, subjectFields } from './family-codec';
import { familyTag } from '../user-tag';
import { keys, legacyKeys, userKeys } from './keys';
import type { RedisLayout } from './layout';
import type { Durability } from './durability';
import { bindScripts, type RedisClient, type Scripts } from './scripts';

/** Refresh-token families on Redis: creation, rotation and revocation are Lua scripts, one round trip each. */
export class RedisFamilies implements FamilyStore {
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly layout: RedisLayout,
    durability?: Durability,
  ) {
    this.scripts = bindScripts(redis, durability);
  }

  /** The user's family indexes: this layout's, and on one node also the one from before user tags. */
  private indexes(userId: string): [string] | [string, string] {
    return this.layout.legacy ? [userKeys(userId).families, legacyKeys.userFamilies(userId)] : [userKeys(userId).families];
  }

  async createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }> {
    const absolute = now + policy.absoluteTtlMs;
    const idle = Math.min(now + policy.idleTtlMs, absolute);
    const fields = Object.entries(familyFields(family, now, absolute, idle)).flat();
    const evicted = await this.scripts.createFamily(
      [keys.family(family.id), ...this.indexes(family.userId)],
      family.id,
      family.clientId,
      now,
      idle,
      policy.absoluteTtlMs,
      policy.maxPerUserClient,
      policy.revokedRetentionMs,
      this.layout.keyPrefix,
      ...fields,
    );
    return { evicted };
  }

  /**
   * The keys a revoking script touches. On one node (standalone, Sentinel), a family of this
   * layout also has its state marked where the previous release's introspection looks (`rf:{id}`),
   * so that during a rolling upgrade an old instance does not answer its access tokens active.
   */
  private revocable(familyId: string): [string, string] | [string, string, string] {
    const own: [string, string] = [keys.family(familyId), keys.familyUsed(familyId)];
    return this.layout.legacy && familyTag(familyId) !== undefined ? [...own, legacyKeys.family(familyId)] : own;
  }

  async rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult> {
    const reply = await this.scripts.rotateFamily(
      this.revocable(rotation.familyId),
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
    const before = await this.scripts.revokeFamily(this.revocable(familyId), now, policy.revokedRetentionMs);
    return before.length > 0 ? decodeFamily(familyId, before) : undefined;
  }

  async listFamilies(userId: string, now: number): Promise<Family[]> {
    const live: Family[] = [];
    for (const index of this.indexes(userId)) {
      const ids = await this.redis.zrange(index, '0', '-1');
      if (ids.length === 0) continue;
      // One slot per index (the legacy one's families are elsewhere, but only on one node).
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(keys.family(id));
      const replies = (await pipeline.exec()) ?? [];
      const dead: string[] = [];
      ids.forEach((id, i) => {
        const family = decodeFamily(id, (replies[i]?.[1] as Record<string, string> | undefined) ?? {});
        if (family && isLive(family, now)) live.push(family);
        else dead.push(id);
      });
      if (dead.length > 0) await this.redis.zrem(index, ...dead);
    }
    return live.sort((a, b) => a.createdAt - b.createdAt);
  }

  async currentFamily(familyId: string, secretHash: string, now: number): Promise<Family | undefined> {
    const fields = await this.redis.hgetall(keys.family(familyId));
    const family = decodeFamily(familyId, fields);
    return family && fields.cur === secretHash && isLive(family, now) ? family : undefined;
  }

  async revokeFamilyByToken(familyId: string, clientId: string, secretHash: string, policy: FamilyPolicy, now: number): Promise<RevokeByTokenResult> {
    const reply = await this.scripts.revokeFamilyByToken(this.revocable(familyId), secretHash, clientId, now, policy.revokedRetentionMs);
    if (reply === 'revoked' || reply === 'wrong_client' || reply === 'none') return reply;
    throw new Error(`unexpected revocation reply: ${reply}`);
  }

  async reauthenticateFamily(familyId: string, now: number): Promise<boolean> {
    return (await this.scripts.reauthenticateFamily([keys.family(familyId)], now)) === 1;
  }

  async setFamilySubject(familyId: string, subject: SubjectSnapshot, now: number): Promise<boolean> {
    const { sr, ss, sat } = subjectFields(subject);
    return (await this.scripts.setFamilySubject([keys.family(familyId)], now, sr, ss, Number(sat))) === 1;
  }

  async revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string): Promise<number> {
    let revoked = 0;
    for (const family of await this.listFamilies(userId, now)) {
      if (family.id !== except && (await this.revokeFamily(family.id, policy, now))) revoked += 1;
    }
    // The index keeps the family that stays; the revoked ones are pruned on its next read.
    if (except === undefined) for (const index of this.indexes(userId)) await this.redis.del(index);
    return revoked;
  }
}
