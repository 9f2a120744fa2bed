/** What the Redis stores must know about where their keys live. */
export interface RedisLayout {
  /** The client's keyPrefix: scripts that derive keys from ids (create-family.lua) need it. */
  readonly keyPrefix: string;
  /**
   * Also read and write the keys of the layout before user tags (keys.ts legacyKeys): on
   * standalone and Sentinel, where a deployment may hold them. Never on Cluster, which started
   * after them and where they would cross slots.
   */
  readonly legacy: boolean;
}
