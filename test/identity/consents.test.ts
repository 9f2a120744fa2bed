import { createClient, deleteClient } from '../../src/identity/clients';
import { findConsent, grantConsent, listConsents, revokeConsent } from '../../src/identity/consents';
import type { Database } from '../../src/db/database';
import { IdentityError } from '../../src/identity/errors';
import { createUser } from '../../src/identity/users';
import { createTestDatabase, databaseKinds } from '../support/env';

describe.each(databaseKinds())('consents on %s', (kind) => {
  let db: Database;
  let drop: () => Promise<void>;
  let uma: string;
  let vic: string;
  const t0 = new Date('2026-03-01T10:00:00Z');
  const t1 = new Date('2026-03-02T10:00:00Z');

  beforeAll(async () => {
    ({ db, drop } = await createTestDatabase(kind));
    uma = (await createUser(db, { username: 'uma', passwordHash: 'x' }, t0)).id;
    vic = (await createUser(db, { username: 'vic', passwordHash: 'x' }, t0)).id;
    for (const [id, name] of [['photos', 'Photo Printer'], ['calendar', 'Calendar Sync']] as const) {
      await createClient(db, { id, name, type: 'public', grantTypes: ['authorization_code'], scopes: ['items:*'], redirectUris: [`https://${id}.example.com/cb`], requireConsent: true }, t0);
    }
  });
  afterAll(async () => drop());

  it('knows no consent before one is given', async () => {
    expect(await findConsent(db, uma, 'photos')).toBeUndefined();
    expect(await listConsents(db, uma)).toEqual([]);
  });

  it('adds what is granted to what was granted before, sorted, and keeps the time of the last grant', async () => {
    await grantConsent(db, uma, 'photos', ['items:write', 'items:read'], t0);
    expect(await findConsent(db, uma, 'photos')).toEqual(['items:read', 'items:write']);
    await grantConsent(db, uma, 'photos', ['items:delete', 'items:read'], t1);
    expect(await findConsent(db, uma, 'photos')).toEqual(['items:delete', 'items:read', 'items:write']);
    expect(await listConsents(db, uma)).toEqual([{ clientId: 'photos', clientName: 'Photo Printer', scopes: ['items:delete', 'items:read', 'items:write'], grantedAt: t1 }]);
  });

  it('counts two consent pages answered at once, both', async () => {
    await Promise.all([grantConsent(db, vic, 'calendar', ['items:read'], t0), grantConsent(db, vic, 'calendar', ['items:write'], t0), grantConsent(db, vic, 'calendar', [], t0)]);
    expect(await findConsent(db, vic, 'calendar')).toEqual(['items:read', 'items:write']);
  });

  it("keeps each user's consents apart", async () => {
    expect(await findConsent(db, vic, 'photos')).toBeUndefined();
    expect((await listConsents(db, vic)).map((consent) => consent.clientId)).toEqual(['calendar']);
    expect(await revokeConsent(db, vic, 'photos')).toBe(false);
    expect(await findConsent(db, uma, 'photos')).toBeDefined();
  });

  it('revokes a consent once: true, then false', async () => {
    await grantConsent(db, uma, 'calendar', ['items:read'], t0);
    expect(await revokeConsent(db, uma, 'calendar')).toBe(true);
    expect(await revokeConsent(db, uma, 'calendar')).toBe(false);
    expect(await findConsent(db, uma, 'calendar')).toBeUndefined();
    expect((await listConsents(db, uma)).map((consent) => consent.clientId)).toEqual(['photos']);
  });

  it('answers "none" for ids that name no user or client, without asking the database to parse them', async () => {
    expect(await findConsent(db, 'not-a-uuid', 'photos')).toBeUndefined();
    expect(await findConsent(db, uma, 'bad id\u0000')).toBeUndefined();
    expect(await revokeConsent(db, 'not-a-uuid', 'photos')).toBe(false);
    expect(await revokeConsent(db, uma, '')).toBe(false);
    expect(await listConsents(db, 'not-a-uuid')).toEqual([]);
  });

  it('refuses a grant to a missing client or user, or of a malformed scope', async () => {
    await expect(grantConsent(db, uma, 'missing', ['items:read'], t0)).rejects.toMatchObject({ code: 'unknown_client' });
    await expect(grantConsent(db, '00000000-0000-4000-8000-000000000000', 'photos', ['items:read'], t0)).rejects.toMatchObject({ code: 'unknown_user' });
    await expect(grantConsent(db, uma, 'photos', ['items read'], t0)).rejects.toBeInstanceOf(IdentityError);
  });

  it('goes with the client', async () => {
    expect(await deleteClient(db, 'photos')).toBe(true);
    expect(await findConsent(db, uma, 'photos')).toBeUndefined();
    expect(await listConsents(db, uma)).toEqual([]);
  });
});
