import { nowSeconds, type Clock } from '../clock';
import type { Config } from '../config/config';
import { LONGEST_ACCESS_TOKEN_TTL_SEC } from '../config/schema';
import type { RevocationStore } from '../store/revocations';

export interface ClientLifecycleDeps {
  readonly revocations: Pick<RevocationStore, 'revokeClientTokensBefore'>;
  readonly clock: Clock;
  readonly config: Pick<Config, 'clientCacheTtlSec'>;
}

/** Beyond CLIENT_CACHE_TTL, for clocks a little apart between instances. */
const SKEW_MS = 1000;

/**
 * Every access token issued to the client ends (introspection, forward-auth and the APIs read the
 * client's revocation epoch in their one round trip), and so does every one issued until the
 * other instances' client caches (CLIENT_CACHE_TTL) have let the deleted client go: they may
 * issue a few more (outside round: those stayed valid for their whole life). Written before the
 * client row goes; kept as long as the last of those tokens can live. A client created again
 * under the same id within that time has its first tokens refused until it has passed.
 */
export async function revokeClientTokens(deps: ClientLifecycleDeps, clientId: string): Promise<void> {
  const cachedForMs = deps.config.clientCacheTtlSec * 1000 + SKEW_MS;
  // As long as any instance's access token can live (not this process's ACCESS_TOKEN_TTL).
  const ttlSec = LONGEST_ACCESS_TOKEN_TTL_SEC + Math.ceil(cachedForMs / 1000);
  await deps.revocations.revokeClientTokensBefore(clientId, deps.clock.now() + cachedForMs, ttlSec, nowSeconds(deps.clock));
}
