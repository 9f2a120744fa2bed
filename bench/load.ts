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

export type Job = HttpJob | RefreshJob | LocalVerifyJob;

export interface LoadResult {
  readonly rate: number;
  readonly p50?: number;
  readonly p99?: number;
  readonly total: number;
  readonly failures: number;
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
  return summarise(
    await autocannon({ url: job.url, connections: job.connections, duration: job.durationSec, method: job.method, headers: job.headers, ...(job.body !== undefined ? { body: job.body } : {}) }),
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
  const result = job.kind === 'http' ? await http(job) : job.kind === 'refresh' ? await refresh(job) : await localVerify(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
