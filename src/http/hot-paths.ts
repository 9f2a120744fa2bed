import type { Deps } from '../deps';
import { AccessTokenChecker } from '../oauth/access-token-check';
import { ClientCache } from '../oauth/client-cache';

/** The in-process caches of the verification paths: built once per app, shared by its routes. */
export interface HotPaths {
  readonly checker: AccessTokenChecker;
  readonly clients: ClientCache;
}

export function createHotPaths(deps: Deps): HotPaths {
  return { checker: new AccessTokenChecker(deps), clients: new ClientCache(deps.db, deps.config.clientCacheTtlSec * 1000) };
}
