import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

// The load generator, in its own process (the orchestrator starts one per scenario): drives a
// server with autocannon, or a verifier in process, and prints one JSON result line.

export interface HttpJob {
  readonly kind: 'http';
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Sent as X-Forwarded-For, one per request in turn: many users' logins, each from their own address. */
  readonly forwardedFor?: readonly string[];
}

/** Each connection walks one refresh-token family: every request uses the token the previous returned. */
export interface RefreshJob {
  readonly kind: 'refresh';
  readonly url: string;
  readonly durationSec: number;
  readonly clientId: string;
  readonly tokens: readonly string[];
}

export interface LocalVerifyJob {
  readonly kind: 'local-verify';
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
  readonly token: string;
  readonly durationSec: number;
  readonly concurrency: number;
  readonly verifierModule: string;
}

/**
 * Credential stuffing: every request is a wrong password for a username drawn from a pool, sent
 * from an address drawn from a pool (X-Forwarded-For; the service trusts one proxy hop).
 */
export interface StuffingJob {
  readonly kind: 'stuffing';
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly clientId: string;
  readonly addresses: readonly string[];
  readonly usernames: readonly string[];
}

/**
 * Failed client authentications at the introspection endpoint, `perAddress` from each address
 * of the pool, each with a client id of its own (so no pair and no client id fails twice): spends
 * the addresses' budgets of failures, which client authentication and passwords share.
 */
export interface SpendJob {
  readonly kind: 'spend';
  readonly url: string;
  readonly connections: number;
  readonly addresses: readonly string[];
  readonly perAddress: number;
}

export type Job = HttpJob | RefreshJob | LocalVerifyJob | StuffingJob | SpendJob;

/** How the service answered the guesses of a stuffing run. */
export interface Guesses {
  /** 400 invalid_grant: the password was checked (one argon2 verify each). */
  readonly checked: number;
  /** 429 from the failed-credential throttle: refused before any hashing. */
  readonly refused: number;
  /** 429 or 503 from the password-hash queue (an address's share of it, or all of it, taken). */
  readonly shed: number;
  readonly checkedRate: number;
  readonly refusedRate: number;
  /** refused ÷ every answered guess. */
  readonly refusedShare: number;
}

export interface LoadResult {
  readonly rate: number;
  readonly p50?: number;
  readonly p99?: number;
  readonly total: number;
  readonly failures: number;
  /** Stuffing runs only. */
  readonly guesses?: Guesses;
}

function summarise(result: autocannon.Result): LoadResult {
  return {
    rate: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

async function http(job: HttpJob): Promise<LoadResult> {
  const { forwardedFor } = job;
  if (forwardedFor === undefined) {
    return summarise(
      await autocannon({ url: job.url, connections: job.connections, duration: job.durationSec, method: job.method, headers: job.headers, ...(job.body !== undefined ? { body: job.body } : {}) }),
    );
  }
  let next = 0;
  return summarise(
    await autocannon({
      url: job.url,
      connections: job.connections,
      duration: job.durationSec,
      requests: [
        {
          method: job.method,
          setupRequest: (request) => ({ ...request, headers: { ...job.headers, 'x-forwarded-for': forwardedFor[(next += 1) % forwardedFor.length]! }, ...(job.body !== undefined ? { body: job.body } : {}) }),
        },
      ],
    }),
  );
}

async function refresh(job: RefreshJob): Promise<LoadResult> {
  // A pool of current tokens, one per family: a request takes one, its response puts the
  // successor back. With as many connections as families, each family has one request in
  // flight at a time. (autocannon's per-connection context is reset on every loop, so it
  // cannot carry the chain.)
  const pool = [...job.tokens];
  return summarise(
    await autocannon({
      url: job.url,
      connections: job.tokens.length,
      duration: job.durationSec,
      requests: [
        {
          method: 'POST',
          path: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (request) => ({ ...request, body: `grant_type=refresh_token&client_id=${job.clientId}&refresh_token=${pool.shift() ?? 'exhausted'}` }),
          onResponse: (status, body) => {
            if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
          },
        },
      ],
    }),
  );
}

async function stuffing(job: StuffingJob): Promise<LoadResult> {
  const pick = <T>(pool: readonly T[]): T => pool[Math.floor(Math.random() * pool.length)]!;
  let sent = 0;
  let checked = 0;
  let refused = 0;
  let shed = 0;
  let other = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSec,
    requests: [
      {
        method: 'POST',
        path: '/oauth/token',
        setupRequest: (request) => ({
          ...request,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': pick(job.addresses) },
          body: new URLSearchParams({ grant_type: 'password', client_id: job.clientId, username: pick(job.usernames), password: `wrong-${(sent += 1)}` }).toString(),
        }),
        onResponse: (status, body) => {
          // The throttle and the hash queue both answer 429 temporarily_unavailable; only the
          // throttle's description speaks of failed attempts (src/http/middleware/errors.ts).
          if (status === 400 && body.includes('"invalid_grant"')) checked += 1;
          else if (status === 429 && body.includes('too many failed attempts')) refused += 1;
          else if ((status === 429 || status === 503) && body.includes('too many logins in progress')) shed += 1;
          else other += 1;
        },
      },
    ],
  });
  const seconds = result.duration > 0 ? result.duration : job.durationSec;
  const answered = checked + refused + shed;
  return {
    ...summarise(result),
    failures: other + result.errors + result.timeouts,
    guesses: {
      checked,
      refused,
      shed,
      checkedRate: Math.round(checked / seconds),
      refusedRate: Math.round(refused / seconds),
      refusedShare: answered > 0 ? Math.round((refused / answered) * 1000) / 1000 : 0,
    },
  };
}

async function spend(job: SpendJob): Promise<LoadResult> {
  let sent = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    amount: job.addresses.length * job.perAddress,
    requests: [
      {
        method: 'POST',
        path: '/oauth/introspect',
        setupRequest: (request) => {
          const n = (sent += 1);
          const authorization = `Basic ${Buffer.from(`spend-${n}:not-the-secret`).toString('base64')}`;
          return { ...request, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, 'x-forwarded-for': job.addresses[n % job.addresses.length]! }, body: 'token=none' };
        },
      },
    ],
  });
  // Each answer should be 401 invalid_client (RFC 6749 §5.2), a failure the bucket counts, or 429
  // once an address's bucket is empty (guesses before this may have spent some of it).
  const expected = (result.statusCodeStats?.['401']?.count ?? 0) + (result.statusCodeStats?.['429']?.count ?? 0);
  return { ...summarise(result), failures: result.requests.total - expected + result.errors + result.timeouts };
}

async function localVerify(job: LocalVerifyJob): Promise<LoadResult> {
  const { createVerifier } = (await import(job.verifierModule)) as typeof import('../src/verifier');
  const verifier = createVerifier({ mode: 'jwks', issuer: job.issuer, audience: job.audience, jwksUri: job.jwksUri });
  if (!(await verifier.tokens.verify(job.token))) throw new Error('the benchmark token does not verify');
  let total = 0;
  let failures = 0;
  const deadline = Date.now() + job.durationSec * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < deadline) {
        if (await verifier.tokens.verify(job.token)) total += 1;
        else failures += 1;
      }
    }),
  );
  return { rate: Math.round(total / ((Date.now() - started) / 1000)), total, failures };
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
  const result = job.kind === 'http' ? await http(job) : job.kind === 'refresh' ? await refresh(job) : job.kind === 'stuffing' ? await stuffing(job) : job.kind === 'spend' ? await spend(job) : await localVerify(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
