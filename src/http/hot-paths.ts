import type { Deps } from '../deps';
import { SecretUseRecorder } from '../identity/client-secret-uses';
import { ClientAuthThrottle } from '../identity/credential-throttle';
import { Health } from './health';
import { AccessTokenChecker } from '../oauth/access-token-check';
import { ClientCache } from '../oauth/client-cache';
import { OriginCache } from '../oauth/origin-cache';

/** The in-process caches of the verification paths: built once per app, shared by its routes. */
export interface HotPaths {
  readonly checker: AccessTokenChecker;
  readonly clients: ClientCache;
  readonly origins: OriginCache;
  /** Failed client authentication: counted in the store, refusals remembered here. */
  readonly clientAuth: ClientAuthThrottle;
  /** When client secrets were last used: noted in memory, written once a minute and on shutdown. */
  readonly secretUses: SecretUseRecorder;
  /** What this instance can serve (readiness, the metrics) and whether it is draining. */
  readonly health: Health;
}

export function createHotPaths(deps: Deps): HotPaths {
  const ttlMs = deps.config.clientCacheTtlSec * 1000;
  return {
    checker: new AccessTokenChecker(deps),
    clients: new ClientCache(deps.db, ttlMs),
    origins: new OriginCache(deps.db, ttlMs),
    clientAuth: new ClientAuthThrottle(deps),
    secretUses: new SecretUseRecorder(deps),
    health: new Health(deps),
  };
}
