import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { parseDuration } from './duration';

/** The longest ACCESS_TOKEN_TTL allowed: revocation epochs are kept this long, whatever the
 *  writer's own setting (a CLI run or an instance mid-rollout may have a shorter one). */
export const LONGEST_ACCESS_TOKEN_TTL_SEC = 86_400;

/** The longest CLIENT_CACHE_TTL allowed: a deleted client's epoch is set this far ahead, whatever
 *  the deleting process's own setting (another instance may cache clients longer). */
export const LONGEST_CLIENT_CACHE_TTL_SEC = 300;

/** A value as a config problem quotes it: whole when short, else its start and its length (a
 *  100 KB value was echoed whole, twice, into the one-line error). */
function shown(raw: string | undefined): string {
  const text = String(raw);
  return text.length <= 40 ? `"${text}"` : `"${text.slice(0, 40)}…" (${text.length} characters)`;
}

// The single description of every environment variable the service reads. README's
// configuration table mirrors this file; keep them in step. The settings that carry a secret
// also accept NAME_FILE (config/secret-files.ts reads those files before this schema runs).

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const ACCESS_LOG_POLICIES = ['all', 'errors', 'sampled'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value ? value : undefined));

function duration(fallback: string, { min = 0, max = 10 * 365 * 86400 } = {}) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const seconds = parseDuration(text);
      if (seconds === undefined || seconds < min || seconds > max) {
        ctx.addIssue({ code: 'custom', message: `must be a duration between ${min}s and ${max}s, like 900, 15m or 7d (got ${shown(text)})` });
        return z.NEVER;
      }
      return seconds;
    });
}

function integer(fallback: number, min: number, max: number) {
  return z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max} (got ${shown(text)})` });
        return z.NEVER;
      }
      return value;
    });
}

function boolean() {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return undefined;
      const normalised = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(normalised)) return true;
      if (['false', '0', 'no'].includes(normalised)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false (got ${shown(text)})` });
      return z.NEVER;
    });
}

function url(protocols: readonly string[]) {
  return optionalText.superRefine((value, ctx) => {
    if (value === undefined) return;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL' });
      return;
    }
    if (!protocols.includes(parsed.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must use ${protocols.join(' or ')}` });
    }
  });
}

/** A TCP port, or unset (the listener is off); 0 asks the system for a free one (tests). */
function optionalPort() {
  return z
    .string()
    .optional()
    .transform((text, ctx): number | undefined => {
      if (text === undefined || text.trim() === '') return undefined;
      const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value > 65535) {
        ctx.addIssue({ code: 'custom', message: `must be a port from 0 to 65535, or unset (got ${shown(text)})` });
        return z.NEVER;
      }
      return value;
    });
}

/** A Redis node's address, as the sentinel list names it. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

// host:port, the host a name (at most 253 characters, as DNS allows), an IPv4 address or a
// bracketed IPv6 address ([::1]:26379).
const HOST_PORT = /^(\[[0-9A-Fa-f:.]{1,45}\]|[A-Za-z0-9._-]{1,253}):(\d{1,5})$/;

// What an entry that is not host:port may be echoed as: a host with a port out of range. Any
// other shape (a bare word, a second colon, "@", "?", spaces) may be a password typed in the
// wrong place, or in a wrong entry.
const ECHOABLE = /^([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{1,45}\]):\d{1,6}$/;

/** A comma-separated list of host:port (Redis Sentinel's or Cluster seed nodes' addresses); unset or empty = none. */
function hostPortList(example: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx): readonly HostPort[] | undefined => {
      if (text === undefined || text.trim() === '') return undefined;
      const nodes: HostPort[] = [];
      let valid = true;
      for (const [index, entry] of text.split(',').map((item) => item.trim()).entries()) {
        const match = HOST_PORT.exec(entry);
        const port = match ? Number(match[2]) : 0;
        if (!match || port < 1 || port > 65535) {
          valid = false;
          // Credentials in an entry are not echoed (REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD are their place).
          const shown = entry.includes('@')
            ? 'an entry with "@" (credentials belong in REDIS_PASSWORD or REDIS_SENTINEL_PASSWORD)'
            : ECHOABLE.test(entry)
              ? `"${entry}"`
              : `entry ${index + 1} (not shown: it is not shaped like an address and may hold a secret)`;
          ctx.addIssue({ code: 'custom', message: `${shown} is not host:port with a port from 1 to 65535 (like ${example} or [::1]:${example.split(':')[1]})` });
          continue;
        }
        // ioredis wants an IPv6 host without its brackets.
        nodes.push(Object.freeze({ host: match[1]!.replace(/^\[|\]$/g, ''), port }));
      }
      return valid ? Object.freeze(nodes) : z.NEVER;
    });
}

// A secret is taken as written: trimming could change a password that ends in a space.
const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));

/**
 * Which peers may tell us the client's address in X-Forwarded-For. `off`: none, the socket's
 * address is the client's. `hops`: the nearest N addresses of the chain (socket first) are our
 * proxies. `cidrs`: exactly the peers inside these ranges are our proxies.
 */
export type TrustProxy = { readonly kind: 'off' } | { readonly kind: 'hops'; readonly hops: number } | { readonly kind: 'cidrs'; readonly list: readonly string[] };

const MAX_PROXY_HOPS = 32;
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * A trusted range wider than any operator's proxies plausibly are: `0.0.0.0/1,128.0.0.0/1` or
 * `::ffff:0.0.0.0/96` would trust every IPv4 peer, as `true` would. IPv4-mapped IPv6 ranges
 * count by their IPv4 part.
 */
function tooWide(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash === -1) return false;
  const address = ipaddr.parse(entry.slice(0, slash));
  // proxy-addr also takes a netmask (`10.0.0.0/255.0.0.0`) where a prefix length would stand.
  const range = entry.slice(slash + 1);
  const prefix = /^\d+$/.test(range) ? Number(range) : (ipaddr.parse(range).prefixLengthFromSubnetMask() ?? 0);
  if (address.kind() === 'ipv4') return prefix < 8;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return prefix - 96 < 8;
  // Private ranges (unique-local fc00::/7, link-local fe80::/10) hold no public clients.
  if (['uniqueLocal', 'linkLocal'].includes(v6.range()) && prefix >= 7) return false;
  return prefix < 32;
}

// Off unless set: a client that reaches us directly writes whatever X-Forwarded-For it likes, so
// believing it by default would let anyone choose the address that throttling keys on.
function trustProxy() {
  return z
    .string()
    .optional()
    .transform((text, ctx): TrustProxy => {
      const value = (text ?? '').trim();
      const hops = /^\d+$/.test(value) ? Number(value) : undefined;
      if (value === '' || hops === 0 || value.toLowerCase() === 'false') return Object.freeze({ kind: 'off' });
      if (hops !== undefined) {
        if (hops > MAX_PROXY_HOPS) {
          ctx.addIssue({ code: 'custom', message: `a hop count must be from 1 to ${MAX_PROXY_HOPS} (got ${shown(text)})` });
          return z.NEVER;
        }
        return Object.freeze({ kind: 'hops', hops });
      }
      if (value.toLowerCase() === 'true') {
        ctx.addIssue({ code: 'custom', message: 'name a hop count or the proxies\' addresses; trusting every hop would let any client choose its address' });
        return z.NEVER;
      }
      const list = value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '');
      let valid = list.length > 0;
      if (!valid) ctx.addIssue({ code: 'custom', message: `names no proxy (got ${shown(text)})` });
      for (const entry of list) {
        try {
          // proxy-addr's own parser, so what passes here is exactly what the middleware compiles.
          proxyAddr.compile(entry);
        } catch {
          valid = false;
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address, a CIDR range or one of ${PROXY_RANGE_NAMES.join(', ')}` });
          continue;
        }
        if (tooWide(entry)) {
          valid = false;
          ctx.addIssue({ code: 'custom', message: `"${entry}" is too wide a range to be your proxies (at most /8 for IPv4, /32 for public IPv6): clients inside it could choose the address they are counted as` });
        }
      }
      return valid ? Object.freeze({ kind: 'cidrs', list: Object.freeze(list) }) : z.NEVER;
    });
}

export const envSchema = z.object({
  NODE_ENV: z.enum(NODE_ENVS).default('development'),
  PORT: integer(8080, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  TRUST_PROXY: trustProxy(),
  // Prometheus metrics on a listener of their own (issue 16; README "Observability"): unset = off.
  METRICS_PORT: optionalPort(),
  METRICS_HOST: optionalText,
  ISSUER: url(['http:', 'https:']),
  // Production refuses an http ISSUER for a host other than loopback unless this is true.
  ALLOW_INSECURE_ISSUER: boolean(),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  // How long a new PostgreSQL connection may take; at start, an unreachable database is refused after it.
  DATABASE_CONNECT_TIMEOUT: duration('5s', { min: 1, max: 300 }),
  // How long a query may wait for PostgreSQL's answer (a hung server is an outage, not a wait).
  DATABASE_QUERY_TIMEOUT: duration('10s', { min: 1, max: 600 }),
  REDIS_MODE: z.enum(['standalone', 'sentinel', 'cluster'], { message: 'must be standalone, sentinel or cluster' }).default('standalone'),
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_SENTINELS: hostPortList('sentinel-1:26379'),
  REDIS_CLUSTER_NODES: hostPortList('redis-1:6379'),
  REDIS_SENTINEL_NAME: optionalText,
  REDIS_USERNAME: optionalText,
  REDIS_PASSWORD: optionalSecret,
  REDIS_SENTINEL_PASSWORD: optionalSecret,
  REDIS_TLS: boolean(),
  REDIS_WAIT_REPLICAS: integer(0, 0, 16),
  REDIS_WAIT_TIMEOUT_MS: integer(200, 1, 10000),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,32}$/, 'letters, digits, ":", "_" or "-", at most 32').default('portcullis:'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  // The per-request access line on the verification hot paths (issue 17; README "Logging").
  ACCESS_LOG: z.enum(ACCESS_LOG_POLICIES).optional(),
  // Worker processes sharing the listening socket (issue 17; README "All cores").
  WORKERS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      if (text.trim() === 'auto') return 'auto' as const;
      const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < 1 || value > 64) {
        ctx.addIssue({ code: 'custom', message: `must be auto or an integer from 1 to 64 (got ${shown(text)})` });
        return z.NEVER;
      }
      return value;
    }),
  // The audit trail's own file (issue 16; README "Audit events"), besides the log's `audit: true` lines.
  AUDIT_LOG_FILE: optionalText,
  MIGRATE_ON_START: boolean(),
  SIGNING_KEYS: optionalText,
  SIGNING_KEYS_FILE: optionalText,
  // Clients as code (issue 15; README "Clients as code").
  CLIENTS_FILE: optionalText,
  CLIENTS_FILE_PRUNE: boolean(),
  SHUTDOWN_TIMEOUT: duration('10s', { min: 1, max: 300 }),
  READINESS_TIMEOUT_MS: integer(1000, 50, 30000),
  ACCESS_TOKEN_TTL: duration('15m', { min: 30, max: LONGEST_ACCESS_TOKEN_TTL_SEC }),
  DEFAULT_AUDIENCE: optionalText,
  REFRESH_TOKEN_TTL: duration('30d', { min: 60, max: 366 * 86400 }),
  REFRESH_IDLE_TTL: duration('7d', { min: 60, max: 366 * 86400 }),
  REFRESH_REUSE_GRACE: duration('5s', { min: 0, max: 60 }),
  REFRESH_SUBJECT_MAX_AGE: duration('1h', { min: 0, max: 366 * 86400 }),
  MAX_SESSIONS_PER_USER: integer(100, 1, 10000),
  JWKS_MAX_AGE: duration('5m', { min: 0, max: 86400 }),
  CLIENT_CACHE_TTL: duration('10s', { min: 0, max: LONGEST_CLIENT_CACHE_TTL_SEC }),
  CLIENT_SECRET_OVERLAP: duration('7d', { min: 0, max: 366 * 86400 }),
  ALLOW_HS256: boolean(),
  // OWASP's minimum argon2id settings (19 MiB, 2 passes, 1 lane). Production refuses anything
  // weaker than every row of OWASP's table (config/production-rules.ts); tests and small
  // development machines may go down to these bounds.
  ARGON2_MEMORY_KIB: integer(19456, 8192, 4 * 1024 * 1024),
  ARGON2_TIME_COST: integer(2, 1, 20),
  ARGON2_PARALLELISM: integer(1, 1, 16),
  ARGON2_MAX_CONCURRENT: integer(0, 0, 64),
  ARGON2_MAX_QUEUE: integer(1000, 0, 100000),
  // Waiting places one client address may hold; 0 = max(4, ARGON2_MAX_QUEUE / 10) (config.ts).
  ARGON2_MAX_QUEUE_PER_ADDRESS: integer(0, 0, 100000),
  PASSWORD_MIN_LENGTH: integer(8, 8, 128),
  // Failed-credential throttling (issue 12; README explains the defaults).
  LOGIN_FAILURES_BEFORE_DELAY: integer(10, 0, 1000),
  LOGIN_DELAY_MIN: duration('1m', { min: 1, max: 86400 }),
  LOGIN_DELAY_MAX: duration('15m', { min: 1, max: 7 * 86400 }),
  LOGIN_FAILURE_MEMORY: duration('24h', { min: 60, max: 30 * 86400 }),
  ADDRESS_FAILURES_PER_HOUR: integer(100, 0, 1_000_000),
  ACCOUNT_FAILURES_ALERT: integer(50, 0, 1_000_000),
  ACCOUNT_FAILURE_DELAY: duration('1s', { min: 0, max: 30 }),
  // Browser sign-in (issue 14; README "Sign-in for single-page apps").
  AUTH_CODE_TTL: duration('60s', { min: 10, max: 600 }),
  SESSION_TTL: duration('8h', { min: 60, max: 30 * 86400 }),
  SESSION_IDLE_TTL: duration('1h', { min: 60, max: 30 * 86400 }),
  PUBLIC_CLIENT_REFRESH_TTL: duration('8h', { min: 60, max: 366 * 86400 }),
  PUBLIC_CLIENT_REFRESH_IDLE_TTL: duration('1h', { min: 60, max: 366 * 86400 }),
  PRODUCT_NAME: z.string().trim().min(1).max(64).default('Portcullis'),
});

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type AccessLogPolicy = (typeof ACCESS_LOG_POLICIES)[number];
export type NodeEnv = (typeof NODE_ENVS)[number];
