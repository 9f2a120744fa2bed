import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { replicated, type Durability } from './durability';

/** A connection to standalone Redis (directly or through Sentinel) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

type Arg = string | number;

/** A Lua script's file (beside this module; scripts/copy-assets.js copies it into dist/) and
 *  TypeScript signature: its KEYS, its ARGV, its reply. */
interface ScriptSpec<K extends readonly string[], A extends readonly Arg[], R> {
  readonly file: string;
  /** Types only: never set. */
  readonly signature?: (keys: K, ...args: A) => R;
}

/** A family's hash and used-secret set, and (rolling upgrade only) where the previous release reads its state. */
type FamilyKeys = [family: string, used: string] | [family: string, used: string, previousReleaseState: string];

const script = <K extends readonly string[], A extends readonly Arg[], R>(file: string): ScriptSpec<K, A, R> => ({ file });

/**
 * Every Lua script of the Redis stores. Each file's header says what the keys and arguments
 * mean; all keys of one call share one hash slot (keys.ts, redis-throttle.ts). Times are ms.
 */
export const SCRIPTS = {
  createFamily: script<
    [family: string, userFamilies: string] | [family: string, userFamilies: string, legacyUserFamilies: string],
    [familyId: string, clientId: string, now: number, idleExpiresAt: number, absoluteTtlMs: number, maxPerUserClient: number, revokedRetentionMs: number, keyPrefix: string, ...fields: string[]],
    string[]
  >('create-family'),
  rotateFamily: script<
    FamilyKeys,
    [presentedHash: string, nextHash: string, successorBox: string, now: number, idleTtlMs: number, graceMs: number, revokedRetentionMs: number, maxTrackedGenerations: number, clientId: string],
    string[]
  >('rotate-family'),
  revokeFamily: script<FamilyKeys, [now: number, revokedRetentionMs: number], string[]>('revoke-family'),
  revokeFamilyByToken: script<FamilyKeys, [secretHash: string, clientId: string, now: number, revokedRetentionMs: number], string>('revoke-family-by-token'),
  reauthenticateFamily: script<[family: string], [now: number], number>('reauthenticate-family'),
  setFamilySubject: script<[family: string], [now: number, roles: string, scopes: string, readAt: number], number>('set-family-subject'),
  /** Reads only: the hot path's one command per token (redis-revocations.ts). */
  revocationState: script<string[], [hasFamily: '0' | '1'], unknown[]>('revocation-state'),
  /** Seconds, not ms: the epochs' expiry is compared with JWT times. */
  moveEpoch: script<[epoch: string] | [epoch: string, previousReleaseEpoch: string], [epochMs: number, expiresAtSec: number, ttlSec: number], number>('move-epoch'),
  throttleAttempt: script<
    [pair: string, bucket: string],
    [now: number, pairThreshold: number, pairBaseLockMs: number, pairMaxLockMs: number, pairMemoryMs: number, addressCapacity: number, addressRefillPerMs: number],
    [string, number, number?, number?]
  >('throttle-attempt'),
  throttleSettle: script<[pair: string, bucket: string], [outcome: string, now: number, pairThreshold: number, addressCapacity: number, addressRefillPerMs: number], number>('throttle-settle'),
  throttleCount: script<[subject: string], [now: number, windowMs: number], number>('throttle-count'),
  saveCode: script<[code: string], [now: number, expiresAt: number, ...fields: string[]], number>('save-code'),
  redeemCode: script<[code: string], [now: number, retainMs: number], string[]>('redeem-code'),
  recordCodeIssue: script<[code: string], [now: number, jti: string, accessTokenExpiresAtSec: number, familyId: string], string>('record-code-issue'),
  createBrowserSession: script<[session: string, userSessions: string], [id: string, userId: string, now: number, absoluteExpiresAt: number, idleTtlMs: number], number>('create-browser-session'),
  touchBrowserSession: script<[session: string], [now: number, idleTtlMs: number], string[]>('touch-browser-session'),
  endBrowserSession: script<[session: string], [id: string, now: number, keyPrefix: string], string[]>('end-browser-session'),
  endUserBrowserSessions: script<[userSessions: string], [now: number, keyPrefix: string], number>('end-user-browser-sessions'),
} as const;

/**
 * Scripts whose writes must outlive a failover: revocations, family state, codes (a lost spend
 * would let a code be redeemed twice) and browser sessions begun or ended. Not throttling, and
 * not a browser session's touch: a lost touch only brings its idle end back to the one before,
 * which fails safe, and /oauth/authorize need not wait on replicas to move a timestamp.
 */
const DURABLE: ReadonlySet<string> = new Set<keyof typeof SCRIPTS>([
  'createFamily',
  'rotateFamily',
  'revokeFamily',
  'revokeFamilyByToken',
  'reauthenticateFamily',
  'setFamilySubject',
  'moveEpoch',
  'saveCode',
  'redeemCode',
  'recordCodeIssue',
  'createBrowserSession',
  'endBrowserSession',
  'endUserBrowserSessions',
]);

type Bound<S> = S extends ScriptSpec<infer K, infer A, infer R> ? (keys: K, ...args: A) => Promise<R> : never;

/** The scripts as typed functions on one client. */
export type Scripts = { readonly [N in keyof typeof SCRIPTS]: Bound<(typeof SCRIPTS)[N]> };

type Commands = Record<string, (...args: Arg[]) => Promise<unknown>>;

const sources = new Map<string, string>();
const source = (file: string): string => {
  let lua = sources.get(file);
  if (lua === undefined) {
    lua = readFileSync(path.join(__dirname, `${file}.lua`), 'utf8');
    sources.set(file, lua);
  }
  return lua;
};

/**
 * The scripts bound to `redis`: each runs as EVALSHA (ioredis loads it on a NOSCRIPT reply), on
 * the node that owns its keys' slot. The key count is sent with each call, so a script may take
 * optional keys. With `durability`, a script that writes token state is followed by WAIT in the
 * same round trip (durability.ts).
 */
export function bindScripts(redis: RedisClient, durability?: Durability): Scripts {
  const commands = redis as unknown as Commands;
  const bound: Record<string, (keys: readonly string[], ...args: Arg[]) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    const lua = source(spec.file);
    if (typeof commands[name] !== 'function') redis.defineCommand(name, { lua });
    if (durability && durability.replicas > 0 && DURABLE.has(name)) {
      const sha = createHash('sha1').update(lua).digest('hex');
      // EVALSHA and WAIT in one pipeline. A master that lacks the script (just promoted, or
      // restarted) answers NOSCRIPT without running it: then EVAL and WAIT, so that the WAIT
      // always follows the write it vouches for.
      bound[name] = async (keys, ...args) => {
        try {
          return (await replicated(redis, durability, name, (pipeline) => pipeline.evalsha(sha, keys.length, ...keys, ...args)))[0];
        } catch (error) {
          if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
          return (await replicated(redis, durability, name, (pipeline) => pipeline.eval(lua, keys.length, ...keys, ...args)))[0];
        }
      };
    } else bound[name] = (keys, ...args) => commands[name]!(keys.length, ...keys, ...args);
  }
  return bound as unknown as Scripts;
}
