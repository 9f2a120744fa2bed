import { nowSeconds, type Clock } from '../clock';
import type { Config } from '../config/config';
import type { RevocationStore } from '../store/revocations';

export interface ClientLifecycleDeps {
  readonly revocations: Pick<RevocationStore, 'revokeClientTokensBefore'>;
  readonly clock: Clock;
  readonly config: Pick<Config, 'accessTokenTtlSec'>;
}

/**
 * Every access token issued to the client so far ends now (introspection, forward-auth and the
 * APIs read the client's revocation epoch in their one round trip). Written before the client
 * row goes, so no token of a deleted client outlives it; kept as long as a token can live.
 */
export async function revokeClientTokens(deps: ClientLifecycleDeps, clientId: string): Promise<void> {
  await deps.revocations.revokeClientTokensBefore(clientId, deps.clock.now(), deps.config.accessTokenTtlSec, nowSeconds(deps.clock));
}
