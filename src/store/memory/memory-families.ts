import { isLive, MAX_TRACKED_GENERATIONS, type RevokeByTokenResult, type Family, type FamilyPolicy, type FamilyStore, type NewFamily, type Rotation, type RotationResult, type SubjectSnapshot } from '../families';

const copySubject = (subject: SubjectSnapshot): SubjectSnapshot => ({ roles: [...subject.roles], scopes: [...subject.scopes], at: subject.at });

interface Record {
  family: Family;
  current: string;
  previous: string | undefined;
  previousAt: number;
  box: string;
  /** Used secret hash → generation, oldest first (Map keeps insertion order). */
  used: Map<string, number>;
  /** When the entry may be forgotten (what a Redis TTL does). */
  expiresAt: number;
}

/**
 * The in-process twin of the Redis family scripts. Each method runs to completion without
 * awaiting, so on Node's single thread every operation is atomic, as a Lua script is.
 */
export class MemoryFamilies implements FamilyStore {
  private readonly families = new Map<string, Record>();
  private readonly byUser = new Map<string, Set<string>>();
  private creations = 0;

  clear(): void {
    this.families.clear();
    this.byUser.clear();
  }

  async createFamily(input: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }> {
    this.collect(now);
    const absolute = now + policy.absoluteTtlMs;
    const idle = Math.min(now + policy.idleTtlMs, absolute);
    const family: Family = {
      id: input.id,
      userId: input.userId,
      username: input.username || undefined,
      clientId: input.clientId,
      scope: [...input.scope],
      audience: input.audience,
      createdAt: now,
      authenticatedAt: now,
      lastUsedAt: now,
      generation: 0,
      absoluteExpiresAt: absolute,
      idleExpiresAt: idle,
      revoked: false,
      ip: input.ip || undefined,
      userAgent: input.userAgent ? input.userAgent.slice(0, 256) : undefined,
      subject: input.subject ? copySubject(input.subject) : undefined,
      browserSessionId: input.browserSessionId || undefined,
    };
    this.families.set(input.id, { family, current: input.secretHash, previous: undefined, previousAt: 0, box: '', used: new Map(), expiresAt: idle });
    const ids = this.byUser.get(input.userId) ?? new Set<string>();
    ids.add(input.id);
    this.byUser.set(input.userId, ids);
    const sameClient = (await this.listFamilies(input.userId, now)).filter((f) => f.clientId === input.clientId);
    const excess = sameClient.slice(0, Math.max(0, sameClient.length - policy.maxPerUserClient));
    for (const oldest of excess) await this.revokeFamily(oldest.id, policy, now);
    return { evicted: excess.map((f) => f.id) };
  }

  async rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult> {
    const record = this.record(rotation.familyId, now);
    if (!record) return { outcome: 'unknown' };
    const { family } = record;
    if (family.clientId !== rotation.clientId) return { outcome: 'wrong_client' };
    if (family.revoked) return { outcome: 'revoked' };
    if (now >= family.absoluteExpiresAt || now >= family.idleExpiresAt) return { outcome: 'expired' };

    if (rotation.presentedHash === record.current) {
      const idle = Math.min(now + policy.idleTtlMs, family.absoluteExpiresAt);
      record.used.set(record.current, family.generation);
      while (record.used.size > MAX_TRACKED_GENERATIONS) record.used.delete(record.used.keys().next().value as string);
      record.previous = record.current;
      record.previousAt = now;
      record.box = rotation.successorBox;
      record.current = rotation.nextHash;
      record.expiresAt = idle;
      record.family = { ...family, generation: family.generation + 1, lastUsedAt: now, idleExpiresAt: idle };
      return { outcome: 'rotated', family: record.family };
    }
    if (rotation.presentedHash === record.previous && policy.graceMs > 0 && now - record.previousAt <= policy.graceMs) {
      return { outcome: 'replayed', family, successorBox: record.box };
    }
    if (rotation.presentedHash === record.previous || record.used.has(rotation.presentedHash)) {
      this.markRevoked(record, policy, now);
      return { outcome: 'reused', family: record.family };
    }
    return { outcome: 'invalid' };
  }

  async getFamily(familyId: string, now: number): Promise<Family | undefined> {
    return this.record(familyId, now)?.family;
  }

  async revokeFamily(familyId: string, policy: FamilyPolicy, now: number): Promise<Family | undefined> {
    const record = this.record(familyId, now);
    if (!record || !isLive(record.family, now)) return undefined;
    const before = record.family;
    this.markRevoked(record, policy, now);
    return before;
  }

  async listFamilies(userId: string, now: number): Promise<Family[]> {
    const ids = this.byUser.get(userId);
    if (!ids) return [];
    const live: Family[] = [];
    for (const id of ids) {
      const family = this.record(id, now)?.family;
      if (family && isLive(family, now)) live.push(family);
      else ids.delete(id);
    }
    if (ids.size === 0) this.byUser.delete(userId);
    return live.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string): Promise<number> {
    let revoked = 0;
    for (const family of await this.listFamilies(userId, now)) {
      if (family.id !== except && (await this.revokeFamily(family.id, policy, now))) revoked += 1;
    }
    if (except === undefined) this.byUser.delete(userId);
    return revoked;
  }

  async currentFamily(familyId: string, secretHash: string, now: number): Promise<Family | undefined> {
    const record = this.record(familyId, now);
    return record && record.current === secretHash && isLive(record.family, now) ? record.family : undefined;
  }

  async revokeFamilyByToken(familyId: string, clientId: string, secretHash: string, policy: FamilyPolicy, now: number): Promise<RevokeByTokenResult> {
    const record = this.record(familyId, now);
    if (!record || !isLive(record.family, now)) return 'none';
    if (secretHash !== record.current && secretHash !== record.previous && !record.used.has(secretHash)) return 'none';
    if (record.family.clientId !== clientId) return 'wrong_client';
    this.markRevoked(record, policy, now);
    return 'revoked';
  }

  async reauthenticateFamily(familyId: string, now: number): Promise<boolean> {
    const record = this.record(familyId, now);
    if (!record || !isLive(record.family, now)) return false;
    record.family = { ...record.family, authenticatedAt: now };
    return true;
  }

  async setFamilySubject(familyId: string, subject: SubjectSnapshot, now: number): Promise<boolean> {
    const record = this.record(familyId, now);
    if (!record || !isLive(record.family, now)) return false;
    if (record.family.subject && record.family.subject.at > subject.at) return false;
    record.family = { ...record.family, subject: copySubject(subject) };
    return true;
  }

  private markRevoked(record: Record, policy: FamilyPolicy, now: number): void {
    record.family = { ...record.family, revoked: true };
    record.box = '';
    record.used.clear();
    record.expiresAt = now + policy.revokedRetentionMs;
  }

  // Logical expiry is decided by each operation from `now`, exactly as the Lua scripts do;
  // forgetting dead records (what Redis TTLs do) happens in batches on creation.
  private record(familyId: string, _now: number): Record | undefined {
    return this.families.get(familyId);
  }

  private collect(now: number): void {
    this.creations += 1;
    if (this.creations % 256 !== 0) return;
    for (const [id, record] of this.families) if (record.expiresAt <= now) this.families.delete(id);
  }
}
