/**
 * What a login's access tokens say about its user (roles, effective scopes), as read at `at`.
 * Kept in the family so a rotation needs no database read; a change of the user's roles or
 * scopes replaces it in every live family of theirs (see identity/user-lifecycle).
 */
export interface SubjectSnapshot {
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly at: number;
}

/** One login: the state of a refresh-token family. Times are Unix milliseconds. */
export interface Family {
  readonly id: string;
  readonly userId: string;
  /** For introspection answers without a database read (usernames do not change). */
  readonly username: string | undefined;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly createdAt: number;
  /** When the user last proved their credentials in this login: its start, or a re-check. */
  readonly authenticatedAt: number;
  readonly lastUsedAt: number;
  readonly generation: number;
  readonly absoluteExpiresAt: number;
  readonly idleExpiresAt: number;
  readonly revoked: boolean;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** Absent in families started before snapshots existed: those read the database. */
  readonly subject?: SubjectSnapshot | undefined;
  /**
   * The browser session (store/browser-sessions.ts) whose sign-in started this login, for the
   * code flow: logging out of that browser session revokes the families that name it. Absent
   * for logins without one (the password grant, families from before browser sessions).
   */
  readonly browserSessionId?: string | undefined;
}

export interface NewFamily {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly audience: string;
  readonly secretHash: string;
  readonly username?: string | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly subject?: SubjectSnapshot | undefined;
  readonly browserSessionId?: string | undefined;
}

export interface FamilyPolicy {
  readonly absoluteTtlMs: number;
  readonly idleTtlMs: number;
  /** 0 turns the idempotent-retry window off. */
  readonly graceMs: number;
  /** How long a revoked family is remembered (access tokens of the family must see it). */
  readonly revokedRetentionMs: number;
  readonly maxPerUserClient: number;
}

export interface Rotation {
  readonly familyId: string;
  /** The authenticated client presenting the token: it must be the family's. */
  readonly clientId: string;
  readonly presentedHash: string;
  readonly nextHash: string;
  /** The successor token, sealed under a key derived from the presented token. */
  readonly successorBox: string;
}

export type RotationResult =
  | { readonly outcome: 'rotated'; readonly family: Family }
  /** The previous token again within the grace window: the same successor, sealed. */
  | { readonly outcome: 'replayed'; readonly family: Family; readonly successorBox: string }
  /** A used token of the family came back: theft. The family is now revoked. */
  | { readonly outcome: 'reused'; readonly family: Family }
  | { readonly outcome: 'revoked' | 'expired' | 'unknown' | 'invalid' | 'wrong_client' };

/** Refresh-token families. Rotation is one atomic step; see the contract tests. */
export interface FamilyStore {
  createFamily(family: NewFamily, policy: FamilyPolicy, now: number): Promise<{ evicted: string[] }>;
  rotate(rotation: Rotation, policy: FamilyPolicy, now: number): Promise<RotationResult>;
  getFamily(familyId: string, now: number): Promise<Family | undefined>;
  /** Revokes one family; returns it as it was, or undefined when unknown or already dead. */
  revokeFamily(familyId: string, policy: FamilyPolicy, now: number): Promise<Family | undefined>;
  /** The user's live families, oldest first; dead index entries are pruned on the way. */
  listFamilies(userId: string, now: number): Promise<Family[]>;
  /** Revokes every live family of the user but `except` (the session a user keeps); returns how many. */
  revokeUserFamilies(userId: string, policy: FamilyPolicy, now: number, except?: string): Promise<number>;
  /** The family, when it is live and `secretHash` is its current token's: one read. */
  currentFamily(familyId: string, secretHash: string, now: number): Promise<Family | undefined>;
  /**
   * RFC 7009 for refresh tokens: revokes the family when `secretHash` is any of its tokens
   * (current or used) and `clientId` is its client. One atomic step, so a rotation racing it
   * cannot leave a live successor.
   */
  revokeFamilyByToken(familyId: string, clientId: string, secretHash: string, policy: FamilyPolicy, now: number): Promise<RevokeByTokenResult>;
  /** Sets `authenticatedAt` of a live family to now; false when it is not live. */
  reauthenticateFamily(familyId: string, now: number): Promise<boolean>;
  /**
   * Replaces the subject snapshot of a live family, unless the one it holds was read later
   * (a slow writer must not undo a newer change). True when written.
   */
  setFamilySubject(familyId: string, subject: SubjectSnapshot, now: number): Promise<boolean>;
}

/** Writes `subject` into every live family of the user, one family at a time; returns how many took it. */
export async function setUserSubject(store: Pick<FamilyStore, 'listFamilies' | 'setFamilySubject'>, userId: string, subject: SubjectSnapshot, now: number): Promise<number> {
  let written = 0;
  for (const family of await store.listFamilies(userId, now)) if (await store.setFamilySubject(family.id, subject, now)) written += 1;
  return written;
}

export type RevokeByTokenResult = 'revoked' | 'wrong_client' | 'none';

/** How many used secrets of one family are remembered for theft detection. */
export const MAX_TRACKED_GENERATIONS = 1024;

export function isLive(family: Family, now: number): boolean {
  return !family.revoked && now < family.absoluteExpiresAt && now < family.idleExpiresAt;
}
