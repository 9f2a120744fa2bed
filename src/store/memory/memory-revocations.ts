import type { FamilyStore } from '../families';
import type { RevocationState, RevocationStore } from '../revocations';

const PRUNE_EVERY = 256;

interface Entry {
  readonly value: number;
  readonly expiresAt: number;
}

/**
 * In-process revocation state for development and single-process demos. State lives in this
 * process only: two instances would not see each other's revocations. Production refuses it.
 */
export class MemoryRevocations implements RevocationStore {
  private readonly blacklist = new Map<string, Entry>();
  private readonly userEpochs = new Map<string, Entry>();
  private readonly clientEpochs = new Map<string, Entry>();
  private writesSincePrune = 0;

  /** `families`: where a token's family is looked up (the same process's family store). */
  constructor(private readonly families: Pick<FamilyStore, 'getFamily'>) {}

  clear(): void {
    this.blacklist.clear();
    this.userEpochs.clear();
    this.clientEpochs.clear();
  }

  async blacklistAccessToken(jti: string, _subject: string, expiresAt: number, now: number): Promise<void> {
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
      // This process's memory is lost only with the process, and the tokens' signing state with it.
      lostBefore: 0,
    };
  }

  private moveEpoch(epochs: Map<string, Entry>, id: string, epoch: number, ttlSec: number, now: number): void {
    this.prune(now);
    const previous = live(epochs.get(id), now);
    // Epochs only move forward: a late writer must not un-revoke tokens.
    const value = Math.max(epoch, previous?.value ?? 0);
    epochs.set(id, { value, expiresAt: Math.max(now + ttlSec, previous?.expiresAt ?? 0) });
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
