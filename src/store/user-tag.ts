import { createHash } from 'node:crypto';

// A user's token state (refresh-token families, revocation epoch, revoked access tokens) is
// grouped under a short tag derived from the user id, so that on Redis Cluster it all lives in
// one hash slot: introspection reads it in one round trip, a login writes it in one script. New
// family ids end with their user's tag, so a refresh token alone finds its slot.

/** How many tags there are. Whatever must reach every user (a client's revocation) is written once per tag. */
export const USER_TAG_COUNT = 1024;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Tag number `n` (0 ≤ n < USER_TAG_COUNT) as two base64url characters. */
export function tagName(n: number): string {
  return ALPHABET[n >> 6]! + ALPHABET[n & 63]!;
}

/** The tag of a user (or of a client, for its own tokens): two base64url characters. */
export function userTag(subject: string): string {
  return tagName(createHash('sha256').update(subject).digest().readUInt16BE(0) % USER_TAG_COUNT);
}

/** Every tag, for writes that must reach every user. */
export function allTags(): string[] {
  return Array.from({ length: USER_TAG_COUNT }, (_, n) => tagName(n));
}

/** Family ids minted with a tag (tokens/refresh-token.ts newFamilyId): 22 random characters and the tag. */
const TAGGED_FAMILY_ID_LENGTH = 24;

/** The user tag a family id ends with, or undefined for an id minted before tags. */
export function familyTag(familyId: string): string | undefined {
  return familyId.length === TAGGED_FAMILY_ID_LENGTH ? familyId.slice(-2) : undefined;
}

/**
 * The user tag a browser-session id ends with (tokens/browser-session-cookie.ts: the cookie's
 * hash and its user's tag), so the id alone finds the user's slot.
 */
export function browserSessionTag(id: string): string {
  return id.slice(-2);
}
