import os from 'node:os';
import path from 'node:path';
import type { ThrottleSettings } from '../store/throttle';
import { insecureIssuerProblem, weakArgon2Problem } from './production-rules';
import { envSchema, type HostPort, type AccessLogPolicy, type LogLevel, type NodeEnv, type ParsedEnv, type TrustProxy } from './schema';
import { readSecretFiles, SECRET_SETTINGS } from './secret-files';

export type { HostPort, TrustProxy } from './schema';

/** Credentials and transport of the Redis data nodes (the master, and in Sentinel mode its replicas). */
interface RedisAccess {
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** TLS to the data nodes (a `rediss://` URL turns it on in standalone mode too). */
  readonly tls: boolean;
}

/** Where the token state lives: one master (standalone, or the one the sentinels name), or a
 *  Redis Cluster (store/redis/keys.ts keeps every multi-key operation in one slot). */
export type RedisSettings =
  | (RedisAccess & { readonly mode: 'standalone'; readonly url: string })
  | (RedisAccess & {
      readonly mode: 'cluster';
      /** Seed nodes: the client learns the rest of the cluster from them. */
      readonly nodes: readonly HostPort[];
    })
  | (RedisAccess & {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      /** The master name the sentinels monitor. */
      readonly name: string;
      readonly sentinelPassword: string | undefined;
    });

export interface Config {
  readonly env: NodeEnv;
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  /** GET /metrics on a listener of its own (metrics/server.ts); undefined = no metrics at all. */
  readonly metricsPort: number | undefined;
  /** The metrics listener's address (METRICS_HOST, else HOST). */
  readonly metricsHost: string;
  /** Whose X-Forwarded-For decides the client address (http/middleware/client-address.ts). */
  readonly trustProxy: TrustProxy;
  /** Public base URL, without a trailing slash. */
  readonly issuer: string;
  /** Unset: the embedded PGlite database under dataDir. */
  readonly databaseUrl: string | undefined;
  /** How long a new PostgreSQL connection may take (at start: how long before an unreachable database is refused). */
  readonly databaseConnectTimeoutSec: number;
  /** How long a query may wait for its answer before it fails as an outage (migrations excepted). */
  readonly databaseQueryTimeoutSec: number;
  /** Unset: the in-process token store (development only). */
  readonly redis: RedisSettings | undefined;
  readonly redisKeyPrefix: string;
  /** Replicas that must hold each write of token state before it is answered (0: none), and
   *  how long to wait for them (store/redis/durability.ts). */
  readonly redisWait: { readonly replicas: number; readonly timeoutMs: number };
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Which successful requests to the verification hot paths get an access line (a failed or refused one always does). */
  readonly accessLog: AccessLogPolicy;
  /** Worker processes (node:cluster); 1 runs the service in this process. */
  readonly workers: number | 'auto';
  /** Audited events are also appended here, one JSON line each (events/audit-file.ts), absolute. */
  readonly auditLogFile: string | undefined;
  readonly migrateOnStart: boolean;
  readonly signingKeys: string | undefined;
  readonly signingKeysFile: string | undefined;
  /** Clients declared as code (config/clients-file.ts), absolute; applied at start, on SIGHUP and on change. */
  readonly clientsFile: string | undefined;
  /** Delete file-managed clients the file no longer declares. */
  readonly clientsFilePrune: boolean;
  readonly shutdownTimeoutSec: number;
  readonly readinessTimeoutMs: number;
  readonly accessTokenTtlSec: number;
  /** `aud` of access tokens when the request names no resource (RFC 8707). */
  readonly defaultAudience: string;
  /** Cache-Control max-age of the JWKS document. */
  readonly jwksMaxAgeSec: number;
  /** How long the token, introspection and revocation endpoints (and CORS) may use cached client records (0 = no cache). */
  readonly clientCacheTtlSec: number;
  /** How long `client rotate-secret` (and the admin API) keeps the old secret working by default. */
  readonly clientSecretOverlapSec: number;
  readonly refresh: RefreshSettings;
  readonly allowHs256: boolean;
  readonly argon2: Argon2Settings;
  readonly passwordMinLength: number;
  readonly throttle: ThrottleConfig;
  readonly browser: BrowserSettings;
}

/** The hosted login page, browser sessions and authorization codes (issue 14). */
export interface BrowserSettings {
  /** How long an authorization code may wait for its token request (RFC 6749 §4.1.2: short). */
  readonly authCodeTtlSec: number;
  /** A browser session's absolute lifetime, from sign-in. */
  readonly sessionTtlSec: number;
  /** A browser session ends after this long unused (never past its absolute end). */
  readonly sessionIdleTtlSec: number;
  /** Refresh-family lifetimes for public clients without their own (a browser holds their tokens). */
  readonly publicRefreshTtlSec: number;
  readonly publicRefreshIdleTtlSec: number;
  /** Shown on the login page. */
  readonly productName: string;
}

export interface RefreshSettings {
  /** Absolute lifetime of a login (family), from its start. */
  readonly absoluteTtlSec: number;
  /** Lifetime without use; each rotation extends it, never past the absolute end. */
  readonly idleTtlSec: number;
  /** Idempotent-retry window for the just-rotated token; 0 = off. */
  readonly graceSec: number;
  /**
   * How long a rotation may trust the roles and scopes kept in the family instead of reading
   * the database (which also re-checks disabled and password changes made outside the API);
   * 0 = read on every rotation.
   */
  readonly subjectMaxAgeSec: number;
  readonly maxSessionsPerUserClient: number;
}

/** Failed-credential throttling: the store's settings plus what the policy does above them. */
export interface ThrottleConfig extends ThrottleSettings {
  /** Failures of one username (or client id) in 24 h, from anywhere, that raise an alert; 0 = never. */
  readonly subjectAlertThreshold: number;
  /** Past that threshold, each further failure of that subject is answered this much later. */
  readonly subjectFailureDelayMs: number;
}

export interface Argon2Settings {
  readonly memoryKib: number;
  readonly timeCost: number;
  readonly parallelism: number;
  /** Hashes computed at once; the rest wait in a queue of at most maxQueue. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  /** Waiting places one client address may hold; absent = no per-address bound. */
  readonly maxQueuePerAddress?: number;
}

// Hashes run on libuv's threadpool (4 threads unless UV_THREADPOOL_SIZE says otherwise). By
// default they may take every core but one, and every pool thread but one: the event loop keeps
// a core for verification during a login storm (the benchmark's storm scenario measured p99
// introspection at 37 ms with hashes on both of two cores).
function defaultHashConcurrency(threadpoolSize: string | undefined): number {
  const pool = Number(threadpoolSize) || 4;
  return Math.max(1, Math.min(os.availableParallelism() - 1, pool - 1));
}

// A tenth of the queue per address: one address (a script, a bot) cannot fill the queue alone;
// ten must collude, and each real user behind them still gets a place. Not less than 4, so a
// small queue still lets a NAT or office proxy, many users behind one address, log in together.
function defaultQueueShare(maxQueue: number): number {
  return Math.max(4, Math.floor(maxQueue / 10));
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Sentinel settings are only read in sentinel mode and the URL only in standalone mode: a
// variable that would be silently ignored is more likely a mistake in the deployment than intent.
function redisSettings(parsed: ParsedEnv, problems: string[]): RedisSettings | undefined {
  const access = { username: parsed.REDIS_USERNAME, password: parsed.REDIS_PASSWORD, tls: parsed.REDIS_TLS ?? false };
  const sentinelOnly = { REDIS_SENTINELS: parsed.REDIS_SENTINELS, REDIS_SENTINEL_NAME: parsed.REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD: parsed.REDIS_SENTINEL_PASSWORD };
  const notHere = (variables: Record<string, unknown>, only: string) => {
    for (const [name, value] of Object.entries(variables)) if (value !== undefined) problems.push(`${name}: only read when REDIS_MODE=${only}`);
  };
  switch (parsed.REDIS_MODE) {
    case 'cluster':
      notHere(sentinelOnly, 'sentinel');
      if (parsed.REDIS_URL) problems.push('REDIS_URL: not read when REDIS_MODE=cluster (REDIS_CLUSTER_NODES names the seed nodes); unset it');
      if (!parsed.REDIS_CLUSTER_NODES) {
        problems.push('REDIS_CLUSTER_NODES: required when REDIS_MODE=cluster (comma-separated host:port of some of its nodes)');
        return undefined;
      }
      return Object.freeze({ mode: 'cluster', nodes: parsed.REDIS_CLUSTER_NODES, ...access });
    case 'standalone':
      notHere(sentinelOnly, 'sentinel');
      notHere({ REDIS_CLUSTER_NODES: parsed.REDIS_CLUSTER_NODES }, 'cluster');
      return parsed.REDIS_URL ? Object.freeze({ mode: 'standalone', url: parsed.REDIS_URL, ...access }) : undefined;
    case 'sentinel': {
      // The sentinels name the master; a URL beside them would be a second, conflicting answer.
      if (parsed.REDIS_URL) problems.push('REDIS_URL: not read when REDIS_MODE=sentinel (the sentinels name the master); unset it');
      notHere({ REDIS_CLUSTER_NODES: parsed.REDIS_CLUSTER_NODES }, 'cluster');
      if (!parsed.REDIS_SENTINELS) problems.push('REDIS_SENTINELS: required when REDIS_MODE=sentinel (comma-separated host:port)');
      if (!parsed.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required when REDIS_MODE=sentinel (the master name the sentinels monitor)');
      if (!parsed.REDIS_SENTINELS || !parsed.REDIS_SENTINEL_NAME) return undefined;
      return Object.freeze({
        mode: 'sentinel',
        sentinels: parsed.REDIS_SENTINELS,
        name: parsed.REDIS_SENTINEL_NAME,
        sentinelPassword: parsed.REDIS_SENTINEL_PASSWORD,
        ...access,
      });
    }
  }
}

/**
 * The problems of the other settings, found with the failing ones left at their defaults, so
 * one pass reports everything (an ISSUER with a query beside a PORT that is not a number). A
 * problem that names a failing setting is left out: it would be about the default.
 */
function otherProblems(env: Readonly<Record<string, string | undefined>>, failed: ReadonlySet<string>): string[] {
  if (failed.size === 0 || failed.has('')) return [];
  // The secret files were read into env already; their names go too, so they are not read twice.
  const fileVariables = new Set(SECRET_SETTINGS.map((name) => `${name}_FILE`));
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !failed.has(name) && !fileVariables.has(name)));
  try {
    loadConfig(rest);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) return [];
    return error.problems.filter((problem) => ![...failed].some((name) => problem.includes(name)));
  }
}

/**
 * Reads the environment once into a frozen, typed Config. Every problem is collected and
 * reported together, so an operator fixes them in one pass rather than one restart each.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Secrets mounted as files (NAME_FILE) are read first and validated as NAME, like any value.
  const secrets = readSecretFiles(env);
  const result = envSchema.safeParse(secrets.env);
  if (!result.success || secrets.problems.length > 0) {
    const label = (name: string): string => (secrets.fromFile.has(name) ? `${name} (from ${secrets.fromFile.get(name)})` : name);
    const issues = result.success ? [] : result.error.issues.map((issue) => `${label(issue.path.join('.')) || '(env)'}: ${issue.message}`);
    const failed = new Set([
      ...(result.success ? [] : result.error.issues.map((issue) => String(issue.path[0] ?? ''))),
      ...secrets.problems.map((problem) => (/^[A-Z0-9_]+/.exec(problem)?.[0] ?? '').replace(/_FILE$/, '')),
    ]);
    throw new ConfigError([...secrets.problems, ...issues, ...otherProblems(secrets.env, failed)]);
  }
  const parsed = result.data;
  const production = parsed.NODE_ENV === 'production';

  const problems: string[] = [];
  if (parsed.SIGNING_KEYS && parsed.SIGNING_KEYS_FILE) {
    problems.push('SIGNING_KEYS and SIGNING_KEYS_FILE: set one, not both');
  }
  if (parsed.ISSUER) {
    // RFC 8414 §2: the issuer is a URL with no query and no fragment; it is also every endpoint's
    // base, and credentials in it would be published in the metadata.
    const url = new URL(parsed.ISSUER);
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') problems.push('ISSUER: must have no query, fragment or credentials (RFC 8414 §2)');
  }
  // The metrics must never be served with the public API (issue 16).
  if (parsed.METRICS_PORT !== undefined && parsed.METRICS_PORT !== 0 && parsed.METRICS_PORT === parsed.PORT) problems.push('METRICS_PORT: must differ from PORT (metrics are never served on the API port)');
  if (parsed.METRICS_HOST !== undefined && parsed.METRICS_PORT === undefined) problems.push('METRICS_HOST: only read with METRICS_PORT; unset it or set METRICS_PORT');
  // The embedded store and PGlite live inside one process: workers could not share them.
  if (parsed.WORKERS !== undefined && parsed.WORKERS !== 1 && (parsed.DATABASE_URL === undefined || (parsed.REDIS_URL === undefined && parsed.REDIS_MODE === 'standalone'))) {
    problems.push('WORKERS: more than one worker needs DATABASE_URL and Redis (REDIS_URL, or REDIS_MODE=sentinel or cluster): the embedded store and PGlite live in one process');
  }
  if (parsed.CLIENTS_FILE_PRUNE !== undefined && !parsed.CLIENTS_FILE) problems.push('CLIENTS_FILE_PRUNE: only read with CLIENTS_FILE; unset it');
  if (parsed.LOGIN_DELAY_MIN > parsed.LOGIN_DELAY_MAX) problems.push('LOGIN_DELAY_MIN: must not exceed LOGIN_DELAY_MAX');
  if (parsed.ARGON2_MAX_QUEUE_PER_ADDRESS > parsed.ARGON2_MAX_QUEUE) {
    problems.push('ARGON2_MAX_QUEUE_PER_ADDRESS: must not exceed ARGON2_MAX_QUEUE (one address could fill the whole queue)');
  }
  const redis = redisSettings(parsed, problems);
  if (production) {
    // The embedded defaults (PGlite, in-process store, generated key) are for development:
    // they lose state across instances and would let a misconfigured deploy look healthy.
    if (!parsed.DATABASE_URL) problems.push('DATABASE_URL: required when NODE_ENV=production');
    if (parsed.REDIS_MODE === 'standalone' && !parsed.REDIS_URL) problems.push('REDIS_URL: required when NODE_ENV=production');
    if (!parsed.SIGNING_KEYS && !parsed.SIGNING_KEYS_FILE) {
      problems.push('SIGNING_KEYS or SIGNING_KEYS_FILE: required when NODE_ENV=production');
    }
    if (!parsed.ISSUER) problems.push('ISSUER: required when NODE_ENV=production');
    // Transport and hashing strength: the defaults pass, weakened values are for development.
    const issuerProblem = parsed.ISSUER ? insecureIssuerProblem(parsed.ISSUER, parsed.ALLOW_INSECURE_ISSUER ?? false) : undefined;
    if (issuerProblem) problems.push(issuerProblem);
    const argon2Problem = weakArgon2Problem(parsed.ARGON2_MEMORY_KIB, parsed.ARGON2_TIME_COST);
    if (argon2Problem) problems.push(argon2Problem);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const issuer = (parsed.ISSUER ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: parsed.NODE_ENV,
    production,
    port: parsed.PORT,
    host: parsed.HOST,
    metricsPort: parsed.METRICS_PORT,
    metricsHost: parsed.METRICS_HOST ?? parsed.HOST,
    trustProxy: parsed.TRUST_PROXY,
    issuer,
    databaseUrl: parsed.DATABASE_URL,
    databaseConnectTimeoutSec: parsed.DATABASE_CONNECT_TIMEOUT,
    databaseQueryTimeoutSec: parsed.DATABASE_QUERY_TIMEOUT,
    redis,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    redisWait: Object.freeze({ replicas: parsed.REDIS_WAIT_REPLICAS, timeoutMs: parsed.REDIS_WAIT_TIMEOUT_MS }),
    dataDir: path.resolve(parsed.DATA_DIR),
    logLevel: parsed.LOG_LEVEL,
    accessLog: parsed.ACCESS_LOG ?? (production ? 'sampled' : 'all'),
    workers: parsed.WORKERS ?? (production ? 'auto' : 1),
    auditLogFile: parsed.AUDIT_LOG_FILE === undefined ? undefined : path.resolve(parsed.AUDIT_LOG_FILE),
    migrateOnStart: parsed.MIGRATE_ON_START ?? !production,
    signingKeys: parsed.SIGNING_KEYS,
    signingKeysFile: parsed.SIGNING_KEYS_FILE,
    clientsFile: parsed.CLIENTS_FILE === undefined ? undefined : path.resolve(parsed.CLIENTS_FILE),
    clientsFilePrune: parsed.CLIENTS_FILE_PRUNE ?? false,
    shutdownTimeoutSec: parsed.SHUTDOWN_TIMEOUT,
    readinessTimeoutMs: parsed.READINESS_TIMEOUT_MS,
    accessTokenTtlSec: parsed.ACCESS_TOKEN_TTL,
    defaultAudience: parsed.DEFAULT_AUDIENCE ?? issuer,
    jwksMaxAgeSec: parsed.JWKS_MAX_AGE,
    clientCacheTtlSec: parsed.CLIENT_CACHE_TTL,
    clientSecretOverlapSec: parsed.CLIENT_SECRET_OVERLAP,
    refresh: Object.freeze({
      absoluteTtlSec: parsed.REFRESH_TOKEN_TTL,
      idleTtlSec: Math.min(parsed.REFRESH_IDLE_TTL, parsed.REFRESH_TOKEN_TTL),
      graceSec: parsed.REFRESH_REUSE_GRACE,
      subjectMaxAgeSec: parsed.REFRESH_SUBJECT_MAX_AGE,
      maxSessionsPerUserClient: parsed.MAX_SESSIONS_PER_USER,
    }),
    allowHs256: parsed.ALLOW_HS256 ?? false,
    argon2: Object.freeze({
      memoryKib: parsed.ARGON2_MEMORY_KIB,
      timeCost: parsed.ARGON2_TIME_COST,
      parallelism: parsed.ARGON2_PARALLELISM,
      maxConcurrent: parsed.ARGON2_MAX_CONCURRENT || defaultHashConcurrency(env.UV_THREADPOOL_SIZE),
      maxQueue: parsed.ARGON2_MAX_QUEUE,
      maxQueuePerAddress: parsed.ARGON2_MAX_QUEUE_PER_ADDRESS || defaultQueueShare(parsed.ARGON2_MAX_QUEUE),
    }),
    passwordMinLength: parsed.PASSWORD_MIN_LENGTH,
    throttle: Object.freeze({
      pairThreshold: parsed.LOGIN_FAILURES_BEFORE_DELAY,
      pairBaseLockMs: parsed.LOGIN_DELAY_MIN * 1000,
      pairMaxLockMs: parsed.LOGIN_DELAY_MAX * 1000,
      pairMemoryMs: parsed.LOGIN_FAILURE_MEMORY * 1000,
      addressCapacity: parsed.ADDRESS_FAILURES_PER_HOUR,
      addressRefillPerMs: parsed.ADDRESS_FAILURES_PER_HOUR / 3_600_000,
      subjectWindowMs: 86_400_000,
      subjectAlertThreshold: parsed.ACCOUNT_FAILURES_ALERT,
      subjectFailureDelayMs: parsed.ACCOUNT_FAILURE_DELAY * 1000,
    }),
    browser: Object.freeze({
      authCodeTtlSec: parsed.AUTH_CODE_TTL,
      sessionTtlSec: parsed.SESSION_TTL,
      sessionIdleTtlSec: Math.min(parsed.SESSION_IDLE_TTL, parsed.SESSION_TTL),
      publicRefreshTtlSec: parsed.PUBLIC_CLIENT_REFRESH_TTL,
      publicRefreshIdleTtlSec: Math.min(parsed.PUBLIC_CLIENT_REFRESH_IDLE_TTL, parsed.PUBLIC_CLIENT_REFRESH_TTL),
      productName: parsed.PRODUCT_NAME,
    }),
  });
}
