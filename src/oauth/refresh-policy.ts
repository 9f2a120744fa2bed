import type { Config } from '../config/config';
import type { FamilyPolicy } from '../store/families';

/** The family lifetimes and limits from config, in the store's units (ms). */
export function familyPolicy(config: Pick<Config, 'refresh' | 'accessTokenTtlSec'>): FamilyPolicy {
  return {
    absoluteTtlMs: config.refresh.absoluteTtlSec * 1000,
    idleTtlMs: config.refresh.idleTtlSec * 1000,
    graceMs: config.refresh.graceSec * 1000,
    // A revoked family is remembered while any of its access tokens can still be alive.
    revokedRetentionMs: (config.accessTokenTtlSec + 60) * 1000,
    maxPerUserClient: config.refresh.maxSessionsPerUserClient,
  };
}
