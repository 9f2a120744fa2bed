import type { StoreConnection } from '../../src/store/connection';
import type { RevocationStore } from '../../src/store/revocations';
import { createTestStores, storeContractKinds } from '../support/env';

// One contract, every backend: the in-process store must behave exactly like Redis.
describe.each(storeContractKinds())('revocation store contract (%s)', (kind) => {
  let storage: StoreConnection;
  let revocations: RevocationStore;
  const now = 1_800_000_000;

  beforeEach(async () => {
    ({ storage, revocations } = await createTestStores(kind));
  });
  afterEach(async () => {
    await storage.close();
  });

  it('answers ping while open', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
  });

  it('reports nothing revoked for unknown tokens and users', async () => {
    await expect(revocations.revocationState('unknown-jti', 'unknown-user', now, undefined, 'unknown-client')).resolves.toEqual({ blacklisted: false, userRevokedBefore: 0, familyRevoked: false, clientRevokedBefore: 0, lostBefore: 0 });
  });

  describe('access-token blacklist (RFC 7009)', () => {
    it('keeps a revoked token blacklisted until its expiry, then forgets it', async () => {
      await revocations.blacklistAccessToken('jti-1', 'u', now + 60, now);
      expect((await revocations.revocationState('jti-1', 'u', now)).blacklisted).toBe(true);
      expect((await revocations.revocationState('jti-1', 'u', now + 59)).blacklisted).toBe(true);
      expect((await revocations.revocationState('jti-1', 'u', now + 60)).blacklisted).toBe(false);
    });

    it('blacklists one jti only', async () => {
      await revocations.blacklistAccessToken('jti-a', 'u', now + 60, now);
      expect((await revocations.revocationState('jti-b', 'u', now)).blacklisted).toBe(false);
    });

    it('ignores a token that has already expired', async () => {
      await revocations.blacklistAccessToken('jti-old', 'u', now - 1, now);
      expect((await revocations.revocationState('jti-old', 'u', now - 10)).blacklisted).toBe(false);
    });
  });

  describe('user revocation epoch', () => {
    it('revokes the user\'s tokens issued up to the epoch, for the given time', async () => {
      await revocations.revokeUserTokensBefore('user-1', now, 900, now);
      expect((await revocations.revocationState('j', 'user-1', now)).userRevokedBefore).toBe(now);
      expect((await revocations.revocationState('j', 'user-2', now)).userRevokedBefore).toBe(0);
      expect((await revocations.revocationState('j', 'user-1', now + 899)).userRevokedBefore).toBe(now);
      expect((await revocations.revocationState('j', 'user-1', now + 900)).userRevokedBefore).toBe(0);
    });

    it('only moves forward: an older epoch written later does not un-revoke', async () => {
      await revocations.revokeUserTokensBefore('user-1', now + 100, 900, now);
      await revocations.revokeUserTokensBefore('user-1', now, 900, now);
      expect((await revocations.revocationState('j', 'user-1', now)).userRevokedBefore).toBe(now + 100);
    });

    it('keeps the longer of two lifetimes', async () => {
      await revocations.revokeUserTokensBefore('user-1', now, 900, now);
      await revocations.revokeUserTokensBefore('user-1', now + 1, 10, now + 1);
      expect((await revocations.revocationState('j', 'user-1', now + 800)).userRevokedBefore).toBe(now + 1);
    });
  });

  describe('client revocation epoch', () => {
    it('revokes the client\'s tokens issued up to the epoch, and no one else\'s', async () => {
      await revocations.revokeClientTokensBefore('client-1', now, 900, now);
      expect((await revocations.revocationState('j', 'u', now, undefined, 'client-1')).clientRevokedBefore).toBe(now);
      expect((await revocations.revocationState('j', 'u', now, undefined, 'client-2')).clientRevokedBefore).toBe(0);
      expect((await revocations.revocationState('j', 'client-1', now)).userRevokedBefore).toBe(0);
      expect((await revocations.revocationState('j', 'u', now + 900, undefined, 'client-1')).clientRevokedBefore).toBe(0);
    });

    it('only moves forward', async () => {
      await revocations.revokeClientTokensBefore('client-1', now + 100, 900, now);
      await revocations.revokeClientTokensBefore('client-1', now, 900, now);
      expect((await revocations.revocationState('j', 'u', now, undefined, 'client-1')).clientRevokedBefore).toBe(now + 100);
    });
  });

  it('fails ping after close', async () => {
    await storage.close();
    await expect(storage.ping()).rejects.toThrow();
    ({ storage, revocations } = await createTestStores(kind));
  });
});
