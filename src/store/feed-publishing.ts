import type { FamilyPolicy, FamilyStore } from './families';
import type { RevocationEntry, RevocationFeed } from './revocation-feed';
import type { RevocationStore } from './revocations';

// Every revocation write also goes on the feed, here, once, rather than at each of the dozen
// call sites (the revoke endpoint, reuse detection, sign-outs, user and client lifecycles).
// The feed entry is written after the revocation itself, in a second command: on a Cluster the
// feed's stream and the user's keys are in different slots, so no script can hold both. A
// publish that fails rejects the caller's request (the revocation stands in the store; the
// client sees an error and retries), so a revocation is not silently kept from verifiers.
// Only the hot-path reads are untouched: these wrappers add nothing to revocationState or rotate's
// successful outcomes.

/** Decorates the two stores that write revocations; `accessTokenTtlSec` bounds each entry's life. */
export function publishingRevocations<F extends FamilyStore, R extends RevocationStore>(
  stores: { readonly families: F; readonly revocations: R },
  feed: RevocationFeed,
  accessTokenTtlSec: number,
): { families: FamilyStore; revocations: RevocationStore } {
  const { families, revocations } = stores;
  const sid = (familyId: string, nowMs: number): RevocationEntry => ({ type: 'sid', sid: familyId, until: Math.floor(nowMs / 1000) + accessTokenTtlSec });

  const publishingFamilies: FamilyStore = {
    createFamily: (family, policy, now) => families.createFamily(family, policy, now),
    getFamily: (id, now) => families.getFamily(id, now),
    listFamilies: (userId, now) => families.listFamilies(userId, now),
    currentFamily: (id, hash, now) => families.currentFamily(id, hash, now),
    reauthenticateFamily: (id, now) => families.reauthenticateFamily(id, now),
    setFamilySubject: (id, subject, now) => families.setFamilySubject(id, subject, now),
    async rotate(rotation, policy, now) {
      const result = await families.rotate(rotation, policy, now);
      // Reuse detected (RFC 6819 §5.2.2.3): the script revoked the family.
      if (result.outcome === 'reused') await feed.publish(sid(result.family.id, now));
      return result;
    },
    async revokeFamily(familyId, policy, now) {
      const before = await families.revokeFamily(familyId, policy, now);
      if (before) await feed.publish(sid(familyId, now));
      return before;
    },
    async revokeFamilyByToken(familyId, clientId, secretHash, policy, now) {
      const outcome = await families.revokeFamilyByToken(familyId, clientId, secretHash, policy, now);
      // 'none' includes a family already revoked: published then, or expired with its tokens.
      if (outcome === 'revoked') await feed.publish(sid(familyId, now));
      return outcome;
    },
    async revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string) {
      // The store answers with a count only: the live families are read first. A family started
      // between the read and the revocation is not on the feed; its user's epoch, which the
      // user lifecycle moves with it, is (a sign-out-everywhere-else keeps no epoch: that gap
      // is one login racing the sign-out).
      const live = await families.listFamilies(userId, now);
      const count = await families.revokeUserFamilies(userId, policy, now, except);
      for (const family of live) if (family.id !== except) await feed.publish(sid(family.id, now));
      return count;
    },
  };

  const publishingRevocations: RevocationStore = {
    revocationState: (jti, userId, now, familyId, clientId) => revocations.revocationState(jti, userId, now, familyId, clientId),
    async blacklistAccessToken(jti, subject, expiresAt, now) {
      await revocations.blacklistAccessToken(jti, subject, expiresAt, now);
      if (expiresAt > now) await feed.publish({ type: 'jti', jti, until: expiresAt });
    },
    async revokeUserTokensBefore(userId, epochMs, ttlSec, now) {
      await revocations.revokeUserTokensBefore(userId, epochMs, ttlSec, now);
      await feed.publish({ type: 'user', sub: userId, epoch: epochMs, until: now + ttlSec });
    },
    async revokeClientTokensBefore(clientId, epochMs, ttlSec, now) {
      await revocations.revokeClientTokensBefore(clientId, epochMs, ttlSec, now);
      await feed.publish({ type: 'client', clientId, epoch: epochMs, until: now + ttlSec });
    },
  };
  return { families: publishingFamilies, revocations: publishingRevocations };
}
