import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateJwk } from '../src/tokens/generate';
import { freePort, startPostgres, startRedis, type Backend } from '../test/support/backends';
import { compareArgon2, type Argon2Comparison } from './argon2';
import type { HttpJob, Job, LoadResult, SpendJob, StuffingJob } from './load';
import { runNode, startNode, startService, type NodeProcess } from './processes';
import { renderMarkdown, type BenchReport, type Scenario, type StuffingScenario, type StuffingSetup } from './report';

// npm run bench [-- --smoke]: real Redis and PostgreSQL, Portcullis compiled and in production
// mode, node-oidc-provider beside it on the same Redis, and a load generator in its own process
// per scenario. Writes bench/results/latest.{json,md} (not in smoke mode) and prints the table.

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const LOAD = path.join(ROOT, 'dist/bench/load.js');
const OIDC_PROVIDER = path.join(ROOT, 'bench/oidc-provider.mjs');
const VERIFIER = path.join(ROOT, 'dist/src/verifier/index.js');

const smoke = process.argv.includes('--smoke');
const SETTINGS = smoke
  ? { durationSec: 1, warmupSec: 1, connections: 4, families: 4, passwordConnections: 2, stormConnections: 4, localConcurrency: 4, stuffingAddresses: 100, stuffingUsernames: 500 }
  : { durationSec: 10, warmupSec: 3, connections: 50, families: 50, passwordConnections: 8, stormConnections: 32, localConcurrency: 32, stuffingAddresses: 1000, stuffingUsernames: 5000 };
/** Introspection beside a storm of logins or guesses runs on half the connections. */
const BESIDE_CONNECTIONS = Math.max(2, SETTINGS.connections / 2);

/** Unmeasured load first, so both servers are measured with their code optimised by the JIT. */
async function warmUp(jobs: readonly Job[]): Promise<void> {
  for (const job of jobs) await load({ ...job, durationSec: SETTINGS.warmupSec } as Job);
}

const ISSUER = 'https://auth.bench.test';
const AUDIENCE = 'https://api.bench.test';
const PASSWORD = 'bench-user-password';
const RS_SECRET = 'bench-resource-server-secret-0123456789abcdef';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = 'application/x-www-form-urlencoded';

const jobDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-'));
let jobCount = 0;

async function load(job: Job): Promise<LoadResult> {
  const file = path.join(jobDir, `job-${(jobCount += 1)}.json`);
  writeFileSync(file, JSON.stringify(job));
  return JSON.parse(await runNode([LOAD, file], {})) as LoadResult;
}

async function post(url: string, body: Record<string, string>, authorization?: string): Promise<Record<string, string>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': form, ...(authorization ? { authorization } : {}) }, body: new URLSearchParams(body) });
  const json = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function httpJob(url: string, connections: number, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): HttpJob {
  return { kind: 'http', url, connections, durationSec: SETTINGS.durationSec, ...init };
}

async function seed(env: Record<string, string>): Promise<void> {
  await runNode([CLI, 'migrate'], env);
  await runNode([CLI, 'user', 'create', '--username', 'bench', '--password-stdin', '--scope', 'items:read'], env, `${PASSWORD}\n`);
  await runNode([CLI, 'client', 'create', '--id', 'bench-spa', '--type', 'public', '--grants', 'password,refresh_token', '--scopes', 'items:read', '--default-scopes', 'items:read'], env);
  await runNode([CLI, 'client', 'create', '--id', 'bench-pw', '--type', 'public', '--grants', 'password', '--scopes', 'items:read', '--default-scopes', 'items:read'], env);
  await runNode([CLI, 'client', 'create', '--id', 'bench-rs', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read', '--default-scopes', 'items:read', '--secret', RS_SECRET, '--introspect'], env);
}

// 198.18.0.0/15, the range RFC 2544 sets aside for benchmarks: addresses no real client has.
const STUFFING_RANGE = '198.18.0.0/15';
const benchmarkAddress = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const STUFFED_USERS = ['bench', 'member-1', 'member-2', 'member-3'];

// The service's default, set explicitly because the stuffing scenarios spend exactly this much.
const ADDRESS_FAILURES_PER_HOUR = 100;

/**
 * Leaves every address of the pool as an hour of stuffing would: its bucket of failures empty.
 * Wrong passwords would take ADDRESS_FAILURES_PER_HOUR × addresses argon2 verifies (100,000, about
 * half an hour here); failed client authentications, which the same bucket counts, cost an HMAC.
 */
async function spendAddressBudgets(service: NodeProcess, addresses: readonly string[]): Promise<void> {
  const job: SpendJob = { kind: 'spend', url: service.url, connections: SETTINGS.connections, addresses, perAddress: ADDRESS_FAILURES_PER_HOUR };
  const spent = await load(job);
  if (spent.failures > 0) throw new Error(`spending the addresses' budgets: ${spent.failures} answers other than 401 or 429`);
}

/**
 * Credential stuffing (issue 12) beside introspection: wrong passwords for many usernames from
 * many addresses, first with every address's budget of failures intact (all guesses are checked,
 * as in an attack's first hour), then with it spent (guesses refused before hashing, but for the
 * trickle the buckets refill). Introspection alone on the same connections is the baseline.
 */
async function credentialStuffing(service: NodeProcess, env: Record<string, string>, introspect: HttpJob): Promise<{ setup: StuffingSetup; scenarios: StuffingScenario[] }> {
  for (const username of STUFFED_USERS.slice(1)) {
    await runNode([CLI, 'user', 'create', '--username', username, '--password-stdin', '--scope', 'items:read'], env, `${randomBytes(18).toString('base64url')}\n`);
  }
  const addresses = Array.from({ length: SETTINGS.stuffingAddresses }, (_, i) => benchmarkAddress(i + 1));
  const usernames = [...STUFFED_USERS, ...Array.from({ length: SETTINGS.stuffingUsernames - STUFFED_USERS.length }, (_, i) => `guess-${i + 1}`)];
  const stuffing: StuffingJob = { kind: 'stuffing', url: service.url, connections: SETTINGS.stormConnections, durationSec: SETTINGS.durationSec, clientId: 'bench-pw', addresses, usernames };
  const beside: HttpJob = { ...introspect, connections: BESIDE_CONNECTIONS };
  const setup: StuffingSetup = { addresses: addresses.length, addressRange: STUFFING_RANGE, usernames: usernames.length, existingUsernames: STUFFED_USERS.length, connections: SETTINGS.stormConnections, introspectionConnections: BESIDE_CONNECTIONS };

  const scenarios: StuffingScenario[] = [{ id: 'introspection-beside-baseline', name: `9. introspection alone on ${BESIDE_CONNECTIONS} connections (the baseline)`, introspection: await load(beside) }];
  const [fresh, duringFresh] = await Promise.all([load(stuffing), load(beside)]);
  scenarios.push({ id: 'stuffing-budgets-full', name: "10. stuffing, every address's budget of failures intact (an attack's first hour)", introspection: duringFresh, stuffing: fresh });
  await spendAddressBudgets(service, addresses);
  const [spent, duringSpent] = await Promise.all([load(stuffing), load(beside)]);
  scenarios.push({ id: 'stuffing-budgets-spent', name: "11. stuffing, every address's budget spent (as after the first hour)", introspection: duringSpent, stuffing: spent });
  return { setup, scenarios };
}

async function ours(redis: Backend, postgres: Backend, argon2: Argon2Comparison): Promise<{ scenarios: Scenario[]; stuffing: { setup: StuffingSetup; scenarios: StuffingScenario[] }; rssMiB: number }> {
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'bench:',
    SIGNING_KEYS: JSON.stringify({ keys: [generateJwk('ES256', 'bench-1', 'active')] }),
    ISSUER,
    DEFAULT_AUDIENCE: AUDIENCE,
    // As deployed: one JSON log line per request, to a file (see the README's Production).
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    // The stuffing scenarios send each guess from its own address in X-Forwarded-For, as through
    // one proxy. The other scenarios send none, so their address stays the connection's.
    TRUST_PROXY: '1',
    ADDRESS_FAILURES_PER_HOUR: String(ADDRESS_FAILURES_PER_HOUR),
  };
  await seed(env);
  const service: NodeProcess = await startService([CLI, 'serve'], env, await freePort(), path.join(jobDir, 'portcullis.log'));
  try {
    const token = (await post(`${service.url}/oauth/token`, { grant_type: 'password', client_id: 'bench-spa', username: 'bench', password: PASSWORD })).access_token!;
    const introspect = httpJob(`${service.url}/oauth/introspect`, SETTINGS.connections, { method: 'POST', headers: { 'content-type': form, authorization: basic('bench-rs', RS_SECRET) }, body: `token=${token}` });
    const clientCredentials = httpJob(`${service.url}/oauth/token`, SETTINGS.connections, { method: 'POST', headers: { 'content-type': form, authorization: basic('bench-rs', RS_SECRET) }, body: 'grant_type=client_credentials' });
    const verify = httpJob(`${service.url}/oauth/verify`, SETTINGS.connections, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    await warmUp([introspect, verify, clientCredentials]);
    const scenarios: Scenario[] = [];
    const add = (id: string, name: string, result: LoadResult, unit = 'req/s') => scenarios.push({ id, name, unit, ...result });

    add('introspection', '1. introspection of a valid access token', await load(introspect));
    add('forward-auth', '2. forward-auth GET /oauth/verify', await load(verify));
    add('local-verify', '3. local verification, verifier in jwks mode (in process)', await load({ kind: 'local-verify', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${service.url}/.well-known/jwks.json`, token, durationSec: SETTINGS.durationSec, concurrency: SETTINGS.localConcurrency, verifierModule: VERIFIER }), 'verifications/s');
    add('client-credentials', '4. client_credentials issuance', await load(clientCredentials));

    const families: string[] = [];
    for (let i = 0; i < SETTINGS.families; i += 1) families.push((await post(`${service.url}/oauth/token`, { grant_type: 'password', client_id: 'bench-spa', username: 'bench', password: PASSWORD })).refresh_token!);
    add('refresh', `5. refresh rotation (${SETTINGS.families} families in parallel)`, await load({ kind: 'refresh', url: service.url, durationSec: SETTINGS.durationSec, clientId: 'bench-spa', tokens: families }));

    // Many users signing in, each from their own address: one user's logins from one address
    // beyond the throttle's threshold in flight at once would be refused until one settles (the
    // throttle charges every attempt when it lets it through; README, Throttling).
    const loginAddresses = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);
    const passwordJob = (connections: number) => ({
      ...httpJob(`${service.url}/oauth/token`, connections, { method: 'POST', headers: { 'content-type': form }, body: `grant_type=password&client_id=bench-pw&username=bench&password=${PASSWORD}` }),
      forwardedFor: loginAddresses,
    });
    // The binding the service uses (src/identity/passwords.ts), measured in this run.
    const hashMs = argon2.results.find((r) => r.binding === '@node-rs/argon2')!.p50Ms;
    const cores = os.cpus().length;
    const ceiling = cores / (hashMs / 1000);
    const ownCeiling = Math.max(1, cores - 1) / (hashMs / 1000);
    const password = await load(passwordJob(SETTINGS.passwordConnections));
    add('password', `6. password grant (ceiling: ${cores} cores ÷ ${hashMs} ms per hash = ${Math.round(ceiling)}/s; ${Math.round(ownCeiling)}/s with the default cores − 1 hashes in flight)`, password);

    const [storm, during] = await Promise.all([load(passwordJob(SETTINGS.stormConnections)), load({ ...introspect, connections: BESIDE_CONNECTIONS })]);
    // The storm's own refusals (a throttle or the hash queue) would otherwise hide in its rate.
    const stormFailures = storm.failures > 0 ? `, ${storm.failures} of them not 200` : '';
    add('introspection-storm', `7. introspection during a password storm (${SETTINGS.stormConnections} logins in flight; storm: ${storm.rate} logins/s${stormFailures})`, during);

    const stuffing = await credentialStuffing(service, env, introspect);
    return { scenarios, stuffing, rssMiB: service.rssMiB() };
  } finally {
    await service.stop();
  }
}

async function theirs(redis: Backend): Promise<Scenario[]> {
  const provider = await startNode([OIDC_PROVIDER], { REDIS_URL: redis.url, CLIENT_ID: 'bench-rs', CLIENT_SECRET: RS_SECRET, SIGNING_JWK: JSON.stringify(generateJwk('ES256', 'op-1')), RESOURCE: AUDIENCE });
  try {
    const auth = basic('bench-rs', RS_SECRET);
    const opaque = (await post(`${provider.url}/token`, { grant_type: 'client_credentials', scope: 'items:read' }, auth)).access_token!;
    const jwt = (await post(`${provider.url}/token`, { grant_type: 'client_credentials', scope: 'items:read', resource: AUDIENCE }, auth)).access_token!;
    if (!jwt.includes('.')) throw new Error('node-oidc-provider did not issue a JWT access token');
    const introspect = httpJob(`${provider.url}/token/introspection`, SETTINGS.connections, { method: 'POST', headers: { 'content-type': form, authorization: auth }, body: `token=${opaque}` });
    const issue = httpJob(`${provider.url}/token`, SETTINGS.connections, { method: 'POST', headers: { 'content-type': form, authorization: auth }, body: `grant_type=client_credentials&scope=items:read&resource=${encodeURIComponent(AUDIENCE)}` });
    await warmUp([introspect, issue]);
    return [
      { id: 'introspection', name: '1. introspection (opaque token, Redis adapter)', unit: 'req/s', ...(await load(introspect)) },
      { id: 'client-credentials', name: '4. client_credentials issuance (JWT access token)', unit: 'req/s', ...(await load(issue)) },
    ];
  } finally {
    await provider.stop();
  }
}

async function main(): Promise<void> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  try {
    process.stderr.write(`bench: ${smoke ? 'smoke' : 'full'} run, ${os.cpus().length} cores; measuring argon2 bindings...\n`);
    const argon2 = await compareArgon2({ memoryKib: 19456, timeCost: 2, parallelism: 1 }, smoke ? { samples: 3, durationMs: 500 } : {});
    process.stderr.write('bench: portcullis scenarios...\n');
    const mine = await ours(redis, postgres, argon2);
    process.stderr.write('bench: node-oidc-provider scenarios...\n');
    const provider = await theirs(redis);
    const report: BenchReport = {
      date: new Date().toISOString(),
      mode: smoke ? 'smoke' : 'full',
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
      settings: SETTINGS,
      scenarios: mine.scenarios,
      oidcProvider: provider,
      stuffingSetup: mine.stuffing.setup,
      stuffing: mine.stuffing.scenarios,
      rssMiB: mine.rssMiB,
      argon2,
    };
    const markdown = renderMarkdown(report);
    process.stdout.write(`${markdown}\n`);
    const failures = [...report.scenarios, ...report.oidcProvider, ...report.stuffing.map((s) => ({ ...s.introspection, name: s.name }))].filter((s) => s.total === 0);
    if (failures.length > 0) throw new Error(`scenarios with no successful request: ${failures.map((s) => s.name).join(', ')}`);
    if (!smoke) {
      const dir = path.join(ROOT, 'bench/results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(path.join(dir, 'latest.md'), `${markdown}\n`);
    }
  } finally {
    await Promise.all([redis.destroy(), postgres.destroy()]);
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
