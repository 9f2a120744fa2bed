import type { Config } from '../config/config';
import { warnEvictionPolicy } from './redis/eviction-policy';
import type { Logger } from '../logging/logger';
import type { BrowserSessionStore } from './browser-sessions';
import type { CodeStore } from './codes';
import type { StoreConnection, TokenStores } from './connection';
import { failClosed } from './fail-closed';
import { OutageLog } from './outage-log';
import type { FamilyStore } from './families';
import { memoryTokenStores } from './memory/memory-store';
import { redisOutage } from './redis/outage';
import { connectRedis, DEFAULT_COMMAND_TIMEOUT_MS } from './redis/connect';
import { redisTokenStores } from './redis/redis-store';
import type { RevocationStore } from './revocations';
import type { ThrottleStore } from './throttle';
import { publishingRevocations } from './feed-publishing';
import { MemoryRevocationFeed } from './memory/memory-revocation-feed';
import type { RevocationFeed } from './revocation-feed';
import { LONGEST_ACCESS_TOKEN_TTL_SEC, LONGEST_CLIENT_CACHE_TTL_SEC } from '../config/schema';
import { RedisRevocationFeed } from './redis/redis-revocation-feed';
import { MemoryThrottleStore } from './memory/memory-throttle';
import { RedisThrottleStore } from './redis/redis-throttle';

export interface Stores extends TokenStores {
  readonly throttle: ThrottleStore;
  /** Every revocation the stores above write, for GET /oauth/revocations (issue 17). */
  readonly revocationFeed: RevocationFeed;
}

/** The token-state stores alone (the CLI's session and revocation commands). */
export async function createTokenStores(config: Config, log: Logger): Promise<TokenStores> {
  const { storage, families, revocations, codes, browserSessions } = await createStores(config, log);
  return { storage, families, revocations, codes, browserSessions };
}

/** Every store the service uses, on one shared Redis connection (or in this process). */
export async function createStores(config: Config, log: Logger): Promise<Stores> {
  if (!config.redis) {
    log.warn(
      { event: 'store.embedded' },
      'Redis is not configured (REDIS_URL, or REDIS_MODE=sentinel or cluster): token state is kept in this process only (development only; revocations are lost on restart and not shared between instances)',
    );
    const stores = memoryTokenStores();
    const revocationFeed = new MemoryRevocationFeed();
    return { ...stores, ...publishingRevocations(stores, revocationFeed, config.accessTokenTtlSec), throttle: new MemoryThrottleStore(), revocationFeed };
  }
  const redis = connectRedis(config.redis, { keyPrefix: config.redisKeyPrefix, commandTimeoutMs: Math.max(DEFAULT_COMMAND_TIMEOUT_MS, config.redisWait.timeoutMs + 1000) });
  // The outage is logged once when it starts and once when it ends (redis.unavailable,
  // redis.recovered), not per reconnect attempt or per refused request.
  const outages = new OutageLog(log, 'redis');
  // A cluster client reports a failed slot-map refresh as one wrapper error; the node's own reply
  // (a wrong password, a seed that is not in cluster mode) is its lastNodeError.
  redis.on('error', (error: Error & { lastNodeError?: Error }) => {
    const reason = error.lastNodeError ? `${error.message}: ${error.lastNodeError.message}` : error.message;
    outages.down(reason);
    log.debug({ event: 'redis.error', err: { message: error.message, ...(error.lastNodeError && { cause: error.lastNodeError.message }) } }, 'redis connection problem');
  });
  redis.on('ready', () => outages.up());
  redis.once('ready', () => void warnEvictionPolicy(redis, log).catch(() => undefined));
  // While Redis cannot answer, whatever needs it fails closed with 503 (http/middleware/errors.ts).
  const isOutage = redisOutage(redis);
  // Made before the first connection, whose check of the markers may find a loss to publish. It
  // keeps entries for the longest access-token life any writer may use (and a deleted client's
  // epoch runs the longest client cache ahead), not this process's: its trimming also drops what
  // other instances wrote (outside round: a CLI run with a 30 s TTL trimmed a `lost`, a `user`
  // and 129 `jti` entries that were still relevant).
  const stream = new RedisRevocationFeed(redis, LONGEST_ACCESS_TOKEN_TTL_SEC + LONGEST_CLIENT_CACHE_TTL_SEC);
  const { storage, families, revocations, codes, browserSessions, generations } = redisTokenStores(redis, {
    ...config.redisWait,
    onShortfall: (write, acknowledged) =>
      log.warn({ event: 'redis.unreplicated', write, acknowledged, wanted: config.redisWait.replicas, timeoutMs: config.redisWait.timeoutMs }, 'a token-state write was acknowledged by fewer replicas than REDIS_WAIT_REPLICAS within REDIS_WAIT_TIMEOUT_MS; a failover now could lose it'),
  }, {
    onDataLost: (loss) => {
      log.error({ event: 'redis.data_lost', lostTags: loss.lostTags, revokedBefore: new Date(loss.revokedBeforeMs).toISOString() }, 'redis lost its data (restarted empty or failed over to an empty replica): tokens issued before now count as revoked, their sessions are gone');
      // The feed's stream went with the data: a verifier that replays it now would learn of no
      // revocation from before the loss. This entry makes it refuse what the service refuses.
      // Until any instance's tokens from before it have expired, not only this one's (third
      // outside round: found by an instance with a 30 s TTL, it lapsed under 15-minute tokens).
      const until = Math.floor(loss.revokedBeforeMs / 1000) + LONGEST_ACCESS_TOKEN_TTL_SEC;
      stream.publish({ type: 'lost', before: loss.revokedBeforeMs, until }).catch((error: unknown) => {
        log.error({ event: 'revocation_feed.publish_failed', entry: 'lost', err: { message: (error as Error).message } }, 'could not tell the revocation feed about the data loss; verifiers in push mode that replay the feed now accept tokens from before it');
      });
    },
  });
  try {
    await storage.connect();
  } catch (error) {
    // The client's error event usually came first, with the node's own reply: that reason stays.
    outages.down(`not reachable at start (retrying in the background): ${(error as Error).message}`);
  }
  // A replay is when a verifier learns what is revoked: the markers are checked first, so a loss
  // no token check has run into yet (a FLUSHALL between two) is on the feed before the replay
  // reads it (outside round: a verifier started then accepted a token revoked before the flush).
  const feed = failClosed<RevocationFeed>(
    {
      publish: (entry) => stream.publish(entry),
      replay: async (after, now) => {
        await generations.verify();
        return stream.replay(after, now);
      },
      subscribe: (listener) => stream.subscribe(listener),
      close: () => stream.close(),
    },
    isOutage,
    outages,
  );
  const published = publishingRevocations({ families: failClosed<FamilyStore>(families, isOutage, outages), revocations: failClosed<RevocationStore>(revocations, isOutage, outages) }, feed, config.accessTokenTtlSec);
  return {
    storage: failClosed<StoreConnection>(storage, isOutage, outages),
    ...published,
    revocationFeed: feed,
    codes: failClosed<CodeStore>(codes, isOutage, outages),
    browserSessions: failClosed<BrowserSessionStore>(browserSessions, isOutage, outages),
    throttle: failClosed<ThrottleStore>(new RedisThrottleStore(redis), isOutage, outages),
  };
}
