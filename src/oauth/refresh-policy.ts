import type { Config } from '../config/config';
import type { Client } from '../identity/clients';
import type { FamilyPolicy } from '../store/families';

type PolicyConfig = Pick<Config, 'refresh' | 'accessTokenTtlSec'> & { readonly browser?: Pick<Config['browser'], 'publicRefreshTtlSec' | 'publicRefreshIdleTtlSec'> };

/** What a family's lifetimes depend on: the client's own settings, or its type's defaults. */
export type PolicyClient = Pick<Client, 'type' | 'refreshTokenTtlSec' | 'refreshIdleTtlSec'>;

/**
 * The family lifetimes and limits, in the store's units (ms). With a client, its own lifetimes,
 * else its type's: a public client's refresh tokens sit in a browser or on a device, where they
 * are easier to steal, so they live shorter (PUBLIC_CLIENT_REFRESH_TTL, _IDLE_TTL). Rotation
 * never moves the absolute end, whatever the idle lifetime says (the stores cap it).
 */
export function familyPolicy(config: PolicyConfig, client?: PolicyClient): FamilyPolicy {
  const publicDefaults = client?.type === 'public' ? config.browser : undefined;
  const absoluteSec = client?.refreshTokenTtlSec ?? publicDefaults?.publicRefreshTtlSec ?? config.refresh.absoluteTtlSec;
  const idleSec = client?.refreshIdleTtlSec ?? publicDefaults?.publicRefreshIdleTtlSec ?? config.refresh.idleTtlSec;
  return {
    absoluteTtlMs: absoluteSec * 1000,
    idleTtlMs: Math.min(idleSec, absoluteSec) * 1000,
    graceMs: config.refresh.graceSec * 1000,
    // A revoked family is remembered while any of its access tokens can still be alive.
    revokedRetentionMs: (config.accessTokenTtlSec + 60) * 1000,
    maxPerUserClient: config.refresh.maxSessionsPerUserClient,
  };
}
