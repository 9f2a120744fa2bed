// Key layout. Keys that one script touches together share a {hash tag} so scripts also run on
// Redis Cluster; the client's keyPrefix goes in front of each.
export const keys = {
  blacklist: (jti: string) => `at:bl:${jti}`,
  userEpoch: (userId: string) => `user:{${userId}}:revoked`,
};
