import type { Family, FamilyPolicy, NewFamily, RevokeByTokenResult, Rotation, RotationResult, SubjectSnapshot } from '../families';
import type { RevocationState, TokenStore } from '../token-store';
import { MemoryFamilies } from './memory-families';

const PRUNE_EVERY = 256;

interface Entry {
  readonly value: number;
  readonly expiresAt: number;
}

/**
 * In-process token state for development and single-process demos. State lives in this
 * process only: two instances would not see each other's revocations. Production refuses it.
 */
export class MemoryTokenStore implements TokenStore {
  readonly kind = 'memory' as const;
  private readonly blacklist = new Map<string, Entry>();
  private readonly userEpochs = new Map<string, Entry>();
  private readonly clientEpochs = new Map<string, Entry>();
  private readonly families = new MemoryFamilies();
  private closed = false;
  private writesSincePrune = 0;

  async ping(): Promise<void> {
    if (this.closed) throw new Error('memory store is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.blacklist.clear();
    this.userEpochs.clear();
    this.clientEpochs.clear();
    this.families.clear();
  }

  async blacklistAccessToken(jti: string, expiresAt: number, now: number): Promise<void> {
    if (expiresAt <= now) return;
    this.prune(now);
    this.blacklist.set(jti, { value: 1, expiresAt });
  }

  async revokeUserTokensBefore(userId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    this.moveEpoch(this.userEpochs, userId, epoch, ttlSec, now);
  }

  async revokeClientTokensBefore(clientId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    this.moveEpoch(this.clientEpochs, clientId, epoch, ttlSec, now);
  }

  async revocationState(jti: string, userId: string, now: number, familyId?: string, clientId?: string): Promise<RevocationState> {
    const family = familyId === undefined ? undefined : await this.families.getFamily(familyId, now * 1000);
    return {
      blacklisted: live(this.blacklist.get(jti), now) !== undefined,
      userRevokedBefore: live(this.userEpochs.get(userId), now)?.value ?? 0,
      familyRevoked: family?.revoked ?? false,
      clientRevokedBefore: clientId === undefined ? 0 : (live(this.clientEpochs.get(clientId), now)?.value ?? 0),
    };
  }

  private moveEpoch(epochs: Map<string, Entry>, id: string, epoch: number, ttlSec: number, now: number): void {
    this.prune(now);
    const previous = live(epochs.get(id), now);
    // Epochs only move forward: a late writer must not un-revoke tokens.
    const value = Math.max(epoch, previous?.value ?? 0);
    epochs.set(id, { value, expiresAt: Math.max(now + ttlSec, previous?.expiresAt ?? 0) });
  }

  createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }> {
    return this.families.createFamily(family, policy, now);
  }

  rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult> {
    return this.families.rotate(rotation, policy, now);
  }

  getFamily(familyId: string, now: number): Promise<Family | undefined> {
    return this.families.getFamily(familyId, now);
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

  // Amortised clean-up on writes keeps memory bounded without a timer.
  private prune(now: number): void {
    this.writesSincePrune += 1;
    if (this.writesSincePrune < PRUNE_EVERY) return;
    this.writesSincePrune = 0;
    for (const map of [this.blacklist, this.userEpochs, this.clientEpochs]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
  }
}

function live(entry: Entry | undefined, now: number): Entry | undefined {
  return entry && entry.expiresAt > now ? entry : undefined;
}
