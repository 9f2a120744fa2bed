import { browserSessionTag, familyTag, userTag } from '../user-tag';

// Key layout. Everything of one user is under the user's tag (store/user-tag.ts), `{u:XY}`, so
// it shares one hash slot on Redis Cluster: introspection reads a token's state in one script
// to one node, and each script touches one slot. The client's keyPrefix goes in front of each
// (it may not contain braces, so the tag stays the key's hash tag).
//
// create-family.lua spells the family keys the same way (it finds a user's other families from
// their ids), and the browser-session scripts spell the session keys and the user's index the
// same way (end-browser-session*.lua); change them together.

const slot = (tag: string) => `{u:${tag}}`;

/** The keys of one user (or of a client, for the tokens it holds itself): all in one slot. */
export function userKeys(userId: string) {
  const name = userTag(userId);
  const tag = slot(name);
  return {
    /** The user's tag (user-tag.ts), as generations.ts names a slot's marker. */
    userTag: name,
    /** Whether a family's keys share this slot (false for a family from before tags). */
    holdsFamily: (familyId: string) => familyTag(familyId) === name,
    /** A revoked access token of this subject. */
    blacklist: (jti: string) => `${tag}:bl:${jti}`,
    epoch: `${tag}:ue:${userId}`,
    /** The copy of a client's revocation epoch in this slot. */
    clientEpoch: (clientId: string) => `${tag}:ce:${clientId}`,
    /** The user's families (zset: family id → created ms). */
    families: `${tag}:uf:${userId}`,
    /** The user's browser sessions (zset: session id → absolute expiry ms). */
    browserSessions: `${tag}:ubs:${userId}`,
    /** This slot's generation marker (generations.ts), read with the revocation keys. */
    generation: `${tag}:gen`,
  };
}

export const keys = {
  /** A tag's generation marker (generations.ts): written once, gone only when Redis lost its data. */
  generation: (tag: string) => `${slot(tag)}:gen`,
  /** A client's revocation epoch is written once under every tag, so each user's read finds it in their slot. */
  clientEpoch: (tag: string, clientId: string) => `${slot(tag)}:ce:${clientId}`,
  family: (familyId: string) => {
    const tag = familyTag(familyId);
    return tag === undefined ? legacyKeys.family(familyId) : `${slot(tag)}:rf:${familyId}`;
  },
  /** A browser session, under its user's tag (the id ends with it). */
  browserSession: (id: string) => `${slot(browserSessionTag(id))}:bs:${id}`,
  /** An authorization code, by the hash of the code: one key, its own slot. */
  code: (codeHash: string) => `code:{${codeHash}}`,
  familyUsed: (familyId: string) => {
    const tag = familyTag(familyId);
    return tag === undefined ? legacyKeys.familyUsed(familyId) : `${slot(tag)}:rfu:${familyId}`;
  },
};

/**
 * The layout before tags (one slot per key). Families minted then keep their keys until they
 * expire. On standalone and Sentinel, where every key is on one node, the revocation state and
 * the user's family index are also read (and written) there, so that instances of the previous
 * release, during a rolling upgrade, and the ones of this release see each other's revocations.
 */
export const legacyKeys = {
  blacklist: (jti: string) => `at:bl:${jti}`,
  userEpoch: (userId: string) => `user:{${userId}}:revoked`,
  clientEpoch: (clientId: string) => `client:{${clientId}}:revoked`,
  userFamilies: (userId: string) => `user:{${userId}}:families`,
  family: (familyId: string) => `rf:{${familyId}}`,
  familyUsed: (familyId: string) => `rf:{${familyId}}:used`,
};
