import { nowSeconds, type Clock } from '../clock';
import { LONGEST_ACCESS_TOKEN_TTL_SEC, LONGEST_CLIENT_CACHE_TTL_SEC } from '../config/schema';
import type { RevocationStore } from '../store/revocations';

export interface ClientLifecycleDeps {
  readonly revocations: Pick<RevocationStore, 'revokeClientTokensBefore'>;
  readonly clock: Clock;
}

/**
 * How far ahead a deleted client's epoch is set: the longest CLIENT_CACHE_TTL any instance may
 * run with (not the deleting process's: a CLI run with the default 10 s let instances caching
 * for 60 s issue live tokens for 50 s more), and a second for clocks a little apart.
 */
const CACHED_FOR_MS = LONGEST_CLIENT_CACHE_TTL_SEC * 1000 + 1000;

/**
 * Every access token issued to the client ends (introspection, forward-auth and the APIs read the
 * client's revocation epoch in their one round trip), and so does every one issued until the
 * other instances' client caches have let the deleted client go: they may issue a few more
 * (outside round: those stayed valid for their whole life). Written before the client row goes;
 * kept as long as the last of those tokens can live, whatever this process's ACCESS_TOKEN_TTL.
 * A client created again under the same id within that time has its first tokens refused.
 */
export async function revokeClientTokens(deps: ClientLifecycleDeps, clientId: string): Promise<void> {
  const ttlSec = LONGEST_ACCESS_TOKEN_TTL_SEC + Math.ceil(CACHED_FOR_MS / 1000);
  await deps.revocations.revokeClientTokensBefore(clientId, deps.clock.now() + CACHED_FOR_MS, ttlSec, nowSeconds(deps.clock));
}
