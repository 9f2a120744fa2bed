// Key layout. Keys that one script touches together share a {hash tag} so scripts also run on
// Redis Cluster; the client's keyPrefix goes in front of each.
export const keys = {
  blacklist: (jti: string) => `at:bl:${jti}`,
  userEpoch: (userId: string) => `user:{${userId}}:revoked`,
  clientEpoch: (clientId: string) => `client:{${clientId}}:revoked`,
  family: (familyId: string) => `rf:{${familyId}}`,
  familyUsed: (familyId: string) => `rf:{${familyId}}:used`,
  /** The user's families (zset: family id → created ms). Another slot than the families, so
   *  it is maintained beside the scripts and pruned when read. */
  userFamilies: (userId: string) => `user:{${userId}}:families`,
};
