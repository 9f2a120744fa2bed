import { allTags } from '../user-tag';
import type { RevocationState, RevocationStore } from '../revocations';
import { keys, legacyKeys, userKeys } from './keys';
import { Generations } from './generations';
import type { RedisLayout } from './layout';
import { replicated, type Durability } from './durability';
import { isCluster } from './connect';
import { bindScripts, type RedisClient, type Scripts } from './scripts';

/** An epoch hash's value (HMGET epoch exp) while it lasts, else 0. */
function liveEpoch(reply: unknown, now: number): number {
  const [epoch, expires] = (reply as (string | null)[] | undefined) ?? [];
  return Number(expires ?? 0) > now ? Number(epoch ?? 0) : 0;
}

/**
 * Access-token blacklist and revocation epochs on Redis. Everything introspection reads about
 * one token is under its subject's tag, so the read is one script on one node.
 */
export class RedisRevocations implements RevocationStore {
  private readonly scripts: Scripts;
  /** The same scripts without a WAIT each, for writes that wait once for many (a client's epoch copies). */
  private readonly unwaited: Scripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly layout: RedisLayout,
    private readonly generations: Generations,
    private readonly durability?: Durability,
  ) {
    this.scripts = bindScripts(redis, durability);
    this.unwaited = bindScripts(redis);
  }

  async blacklistAccessToken(jti: string, subject: string, expiresAt: number, now: number): Promise<void> {
    const ttl = expiresAt - now;
    if (ttl <= 0) return;
    const copies = this.layout.legacy ? [userKeys(subject).blacklist(jti), legacyKeys.blacklist(jti)] : [userKeys(subject).blacklist(jti)];
    await replicated(this.redis, this.durability, 'blacklist', (pipeline) => copies.forEach((key) => pipeline.set(key, String(expiresAt), 'EX', ttl)));
  }

  async revokeUserTokensBefore(userId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    const epochs: [string] | [string, string] = this.layout.legacy ? [userKeys(userId).epoch, legacyKeys.userEpoch(userId)] : [userKeys(userId).epoch];
    await this.scripts.moveEpoch(epochs, epoch, now + ttlSec, ttlSec);
  }

  /**
   * Written under every user tag (USER_TAG_COUNT keys; clients are deleted rarely), so each
   * token's one-slot read sees it. Every copy is written before this resolves; a failure part
   * way rejects, and the caller (client deletion) fails before the client row goes.
   */
  async revokeClientTokensBefore(clientId: string, epoch: number, ttlSec: number, now: number): Promise<void> {
    const copies = allTags().map((tag) => keys.clientEpoch(tag, clientId));
    if (this.layout.legacy) copies.push(legacyKeys.clientEpoch(clientId));
    await Promise.all(copies.map((copy) => this.unwaited.moveEpoch([copy], epoch, now + ttlSec, ttlSec)));
    // With REDIS_WAIT_REPLICAS: one WAIT per master for all its copies (WAIT covers every earlier
    // write of its connection), not one per copy, which would hold each master's connection
    // for the timeout a thousand times over when a replica lags.
    const durability = this.durability;
    if (durability && durability.replicas > 0) {
      const masters = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
      const acknowledged = await Promise.all(masters.map((master) => master.wait(durability.replicas, durability.timeoutMs)));
      for (const count of acknowledged) if (count < durability.replicas) durability.onShortfall('revokeClientTokens', count);
    }
  }

  async revocationState(jti: string, userId: string, now: number, familyId?: string, clientId?: string): Promise<RevocationState> {
    const user = userKeys(userId);
    // A family minted before user tags is in its own slot: read beside the others.
    const familyApart = familyId !== undefined && !this.layout.legacy && !user.holdsFamily(familyId);
    const family = familyId !== undefined && !familyApart ? [keys.family(familyId)] : [];
    const legacy = this.layout.legacy ? [legacyKeys.blacklist(jti), legacyKeys.userEpoch(userId), legacyKeys.clientEpoch(clientId ?? '')] : [];
    // One command per token, not a pipeline of five to eight: on one Redis the client
    // auto-pipelines (connect.ts), so the commands of every request in one event-loop turn leave
    // in one write, and a command is the client's unit of cost (measured: introspection +65 %
    // over one pipeline per request). The slot's generation marker rides along, so a loss of data
    // costs no round trip to see.
    const stateKeys = [user.generation, user.blacklist(jti), user.epoch, user.clientEpoch(clientId ?? ''), ...family, ...legacy];
    const [read, apartState] = await Promise.all([this.scripts.revocationState(stateKeys, family.length === 1 ? '1' : '0'), familyApart ? this.redis.hget(keys.family(familyId), 'state') : undefined]);
    const [generation, blacklist, userEpoch, clientEpoch, familyRead, legacyBlacklist, legacyUserEpoch, legacyClientEpoch] = read;
    // Missing: the marker (and so perhaps revocations) is gone, or this is the first read ever.
    const lostBefore = await this.generations.startFrom(user.userTag, generation);
    const familyState = familyApart ? apartState : familyRead;
    const until = (reply: unknown) => Number(reply ?? 0);
    return {
      blacklisted: Math.max(until(blacklist), until(legacyBlacklist)) > now,
      userRevokedBefore: Math.max(liveEpoch(userEpoch, now), liveEpoch(legacyUserEpoch, now)),
      familyRevoked: familyState === 'revoked',
      clientRevokedBefore: clientId === undefined ? 0 : Math.max(liveEpoch(clientEpoch, now), liveEpoch(legacyClientEpoch, now)),
      lostBefore,
    };
  }
}
