import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateJwk } from '../src/tokens/generate';
import { freePort, startPostgres, startRedis, type Backend } from '../test/support/backends';
import { startRedisCluster } from '../test/support/redis-topologies';
import { compareArgon2, type Argon2Comparison } from './argon2';
import { metricsPathCost } from './metrics-path';
import type { HttpJob, Job, LoadResult, RefreshJob, SpendJob, StuffingJob } from './load';
import { runNode, startNode, startService, type NodeProcess } from './processes';
import { measureRevocationPush, type PushLatency } from './revocation-push';
import { renderMarkdown, type BenchReport, type Scenario, type StuffingScenario, type StuffingSetup } from './report';

// npm run bench [-- --smoke]: real Redis and PostgreSQL, Portcullis compiled and in production
// mode, node-oidc-provider beside it on the same Redis, introspection and refresh again on a
// three-master Redis Cluster, and a load generator in its own process per scenario. Writes
// bench/results/latest.{json,md} (not in smoke mode) and prints the table.
// npm run bench -- --metrics-cost: introspection only, with metrics on and off (about a minute).

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const LOAD = path.join(ROOT, 'dist/bench/load.js');
const OIDC_PROVIDER = path.join(ROOT, 'bench/oidc-provider.mjs');
const FLOORS = path.join(ROOT, 'bench/floors.mjs');
const VERIFIER = path.join(ROOT, 'dist/src/verifier/index.js');

const smoke = process.argv.includes('--smoke');
/** `--metrics-cost`: only introspection, with METRICS_PORT set and unset (issue 16's budget). */
const metricsCostOnly = process.argv.includes('--metrics-cost');
const SETTINGS = smoke
  ? { durationSec: 1, warmupSec: 1, connections: 4, families: 4, passwordConnections: 2, stormConnections: 4, localConcurrency: 4, stuffingAddresses: 100, stuffingUsernames: 500 }
  : { durationSec: 10, warmupSec: 3, connections: 32, families: 50, passwordConnections: 8, stormConnections: 32, localConcurrency: 32, stuffingAddresses: 1000, stuffingUsernames: 5000 };
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

/**
 * What the run started and has not stopped yet (Redis servers, PostgreSQL, the services), each
 * with how to stop it: a phase stops its own on the way out, main() stops the rest at the end of
 * the run, failed or not, and so does SIGINT or SIGTERM (a CI runner's timeout), which unwinds
 * no `finally`.
 */
const running = new Map<object, () => Promise<void>>();
/** Starts in progress: a signal waits for them, so what they start is stopped too. */
const starting = new Set<Promise<unknown>>();
/** Every stop begun, so the run exits only once each has finished (a signal's and main's alike). */
const stopping: Promise<void>[] = [];
let interrupted: NodeJS.Signals | undefined;

async function started<T extends object>(start: Promise<T>, stop: (value: T) => Promise<void>): Promise<T> {
  starting.add(start);
  try {
    const value = await start;
    running.set(value, () => stop(value));
    return value;
  } finally {
    starting.delete(start);
  }
}

function release(value: object): Promise<void> {
  const stop = running.get(value);
  running.delete(value);
  const done = stop ? stop() : Promise.resolve();
  stopping.push(done);
  return done;
}

async function releaseAll(): Promise<void> {
  for (const value of [...running.keys()]) void release(value);
  await Promise.allSettled(stopping);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = signal;
    process.stderr.write(`bench: ${signal}, stopping the servers it started\n`);
    void Promise.allSettled([...starting])
      .then(releaseAll)
      .finally(() => process.exit(128 + os.constants.signals[signal]));
  });
}

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

// The refresh warm-up's families belong to a user of their own: with the measured families and
// the introspected token's they would pass the user's session limit (MAX_SESSIONS_PER_USER, 100)
// and evict the oldest, the introspected token's family, whose access token would then be inactive.
const WARMUP_USER = 'bench-warmup';

async function seed(env: Record<string, string>): Promise<void> {
  await runNode([CLI, 'migrate'], env);
  for (const username of ['bench', WARMUP_USER]) {
    await runNode([CLI, 'user', 'create', '--username', username, '--password-stdin', '--scope', 'items:read'], env, `${PASSWORD}\n`);
  }
  await runNode([CLI, 'client', 'create', '--id', 'bench-spa', '--type', 'public', '--grants', 'password,refresh_token', '--scopes', 'items:read', '--default-scopes', 'items:read'], env);
  await runNode([CLI, 'client', 'create', '--id', 'bench-pw', '--type', 'public', '--grants', 'password', '--scopes', 'items:read', '--default-scopes', 'items:read'], env);
  await runNode([CLI, 'client', 'create', '--id', 'bench-rs', '--type', 'confidential', '--grants', 'client_credentials', '--scopes', 'items:read', '--default-scopes', 'items:read', '--secret', RS_SECRET, '--introspect'], env);
}

async function login(service: NodeProcess, username = 'bench'): Promise<Record<string, string>> {
  return post(`${service.url}/oauth/token`, { grant_type: 'password', client_id: 'bench-spa', username, password: PASSWORD });
}

/**
 * Introspection of a fresh access token. It must answer active: an inactive answer (a revoked or
 * expired token) skips the token's Redis read and would be measured as a cheaper request.
 */
async function introspection(service: NodeProcess): Promise<{ token: string; job: HttpJob }> {
  const token = (await login(service)).access_token!;
  const headers = { 'content-type': form, authorization: basic('bench-rs', RS_SECRET) };
  const answer = await post(`${service.url}/oauth/introspect`, { token }, headers.authorization);
  if ((answer.active as unknown) !== true) throw new Error(`the benchmark token introspects as ${JSON.stringify(answer)}`);
  return { token, job: httpJob(`${service.url}/oauth/introspect`, SETTINGS.connections, { method: 'POST', headers, body: `token=${token}` }) };
}

/**
 * Refresh rotation, one connection per family, after a warm-up on other families (a warm-up's
 * chains end in its load process, so its families cannot be measured after it).
 */
async function refreshRotation(service: NodeProcess): Promise<LoadResult> {
  const job = (tokens: readonly string[]): RefreshJob => ({ kind: 'refresh', url: service.url, durationSec: SETTINGS.durationSec, clientId: 'bench-spa', tokens });
  const families = async (username: string) => {
    const tokens: string[] = [];
    for (let i = 0; i < SETTINGS.families; i += 1) tokens.push((await login(service, username)).refresh_token!);
    return tokens;
  };
  await warmUp([job(await families(WARMUP_USER))]);
  return load(job(await families('bench')));
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

const INTROSPECTION = '1. introspection of a valid access token';
const REFRESH = `5. refresh rotation (${SETTINGS.families} families in parallel)`;

/** The service's settings in every phase: production mode on the run's Redis and PostgreSQL. */
function serviceEnv(redis: Backend, postgres: Backend): Record<string, string> {
  return {
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
    // One process unless a scenario says otherwise (the production default, auto, is one per
    // core, and here the load generator, Redis and PostgreSQL share those cores).
    WORKERS: '1',
  };
}

/**
 * Issue 17's floors, in this run: a bare node:http handler and a bare Koa app answering GET
 * /healthz, one process each, under the same load generator and connections.
 */
async function floors(): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (const [id, name, floor] of [['floor-node-http', 'floor: bare node:http, GET /healthz', 'node-http'], ['floor-koa', 'floor: bare Koa app, GET /healthz', 'koa']] as const) {
    const server = await started(startNode([FLOORS], { FLOOR: floor }), (p) => p.stop());
    try {
      const job = httpJob(`${server.url}/healthz`, SETTINGS.connections, { method: 'GET', headers: {} });
      await warmUp([job]);
      scenarios.push({ id, name, unit: 'req/s', ...(await load(job)) });
    } finally {
      await release(server);
    }
  }
  return scenarios;
}

/**
 * Issue 17, all cores: introspection with WORKERS=2 beside the WORKERS=1 row. On a machine whose
 * cores the load generator, Redis and PostgreSQL share, the second worker competes with them; the
 * report says so. Where `taskset` exists and there are more than 2 cores, the load generator is
 * not pinned here either: the figure is the machine's, as measured.
 */
async function twoWorkers(env: Record<string, string>): Promise<Scenario[]> {
  const service = await started(startService([CLI, 'serve'], { ...env, WORKERS: '2' }, await freePort(), path.join(jobDir, 'portcullis-workers.log')), (s) => s.stop());
  try {
    const { job: introspect } = await introspection(service);
    const verify = httpJob(`${service.url}/oauth/verify`, SETTINGS.connections, { method: 'GET', headers: { authorization: `Bearer ${(await login(service)).access_token!}` } });
    await warmUp([introspect, verify]);
    return [
      { id: 'introspection-2-workers', name: '1b. introspection, WORKERS=2', unit: 'req/s', ...(await load(introspect)) },
      { id: 'forward-auth-2-workers', name: '2b. forward-auth, WORKERS=2', unit: 'req/s', ...(await load(verify)) },
    ];
  } finally {
    await release(service);
  }
}

async function ours(redis: Backend, postgres: Backend, argon2: Argon2Comparison): Promise<{ env: Record<string, string>; scenarios: Scenario[]; stuffing: { setup: StuffingSetup; scenarios: StuffingScenario[] }; rssMiB: number }> {
  const env = serviceEnv(redis, postgres);
  await seed(env);
  const service = await started(startService([CLI, 'serve'], env, await freePort(), path.join(jobDir, 'portcullis.log')), (s) => s.stop());
  try {
    const { token, job: introspect } = await introspection(service);
    const clientCredentials = httpJob(`${service.url}/oauth/token`, SETTINGS.connections, { method: 'POST', headers: { 'content-type': form, authorization: basic('bench-rs', RS_SECRET) }, body: 'grant_type=client_credentials' });
    const verify = httpJob(`${service.url}/oauth/verify`, SETTINGS.connections, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    await warmUp([introspect, verify, clientCredentials]);
    const scenarios: Scenario[] = [];
    const add = (id: string, name: string, result: LoadResult, unit = 'req/s') => scenarios.push({ id, name, unit, ...result });

    add('introspection', INTROSPECTION, await load(introspect));
    add('forward-auth', '2. forward-auth GET /oauth/verify', await load(verify));
    const healthz = httpJob(`${service.url}/healthz`, SETTINGS.connections, { method: 'GET', headers: {} });
    await warmUp([healthz]);
    add('healthz', '0. liveness GET /healthz (the whole middleware stack, no work)', await load(healthz));
    add('local-verify', '3. local verification, verifier in jwks mode (in process)', await load({ kind: 'local-verify', issuer: ISSUER, audience: AUDIENCE, jwksUri: `${service.url}/.well-known/jwks.json`, token, durationSec: SETTINGS.durationSec, concurrency: SETTINGS.localConcurrency, verifierModule: VERIFIER }), 'verifications/s');
    add('client-credentials', '4. client_credentials issuance', await load(clientCredentials));

    add('refresh', REFRESH, await refreshRotation(service));

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
    return { env, scenarios, stuffing, rssMiB: service.rssMiB() };
  } finally {
    await release(service);
  }
}

/**
 * Issue 13: rows 1 and 5 again, with the service's token store on a three-master Redis Cluster
 * (the same PostgreSQL, users, clients, settings and load), once the standalone service has
 * stopped, so the two services never share the cores. The cluster runs for this phase only.
 */
async function onCluster(standaloneEnv: Record<string, string>): Promise<Scenario[]> {
  const cluster = await started(startRedisCluster(), (c) => c.destroy());
  try {
    const { REDIS_URL: _standalone, ...env } = standaloneEnv;
    const clusterEnv = { ...env, REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',') };
    const service = await started(startService([CLI, 'serve'], clusterEnv, await freePort(), path.join(jobDir, 'portcullis-cluster.log')), (s) => s.stop());
    try {
      const { job: introspect } = await introspection(service);
      await warmUp([introspect]);
      return [
        { id: 'introspection', name: INTROSPECTION, unit: 'req/s', ...(await load(introspect)) },
        { id: 'refresh', name: REFRESH, unit: 'req/s', ...(await refreshRotation(service)) },
      ];
    } finally {
      await release(service);
    }
  } finally {
    await release(cluster);
  }
}

async function theirs(redis: Backend): Promise<Scenario[]> {
  const provider = await started(
    startNode([OIDC_PROVIDER], { REDIS_URL: redis.url, CLIENT_ID: 'bench-rs', CLIENT_SECRET: RS_SECRET, SIGNING_JWK: JSON.stringify(generateJwk('ES256', 'op-1')), RESOURCE: AUDIENCE }),
    (p) => p.stop(),
  );
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
    await release(provider);
  }
}

const ORDER = ['off', 'on', 'on', 'off', 'on', 'off', 'off', 'on'] as const;

/**
 * Issue 16: what the metrics cost introspection, the hot path. Services on the same Redis,
 * PostgreSQL and users, with METRICS_PORT set (and scraped, as Prometheus would) and without,
 * measured in turn (ORDER, ABBA BAAB: a drift of the machine's load over the run
 * falls on both sides alike), 10 s a side in all. Prints a table; writes nothing. The budget:
 * "on" at least 95 % of "off". On a shared machine read the medians and the spread too.
 */
async function metricsCost(redis: Backend, postgres: Backend): Promise<void> {
  const durationSec = smoke ? 1 : 2.5;
  const env = serviceEnv(redis, postgres);
  await seed(env);
  // Two services a side, started off, on, on, off: the A/A run (both sides without metrics) of
  // one service a side measured the one started second 8 to 11 % slower on this shared machine,
  // more than the budget; with two a side, started in mirrored order, that bias cancels out.
  const metricsPorts = [await freePort(), await freePort()];
  const start = async (name: string, metricsPort?: number) =>
    started(startService([CLI, 'serve'], metricsPort === undefined ? env : { ...env, METRICS_PORT: String(metricsPort) }, await freePort(), path.join(jobDir, `portcullis-${name}.log`)), (s) => s.stop());
  const off1 = await start('metrics-off-1');
  const on1 = await start('metrics-on-1', metricsPorts[0]);
  const on2 = await start('metrics-on-2', metricsPorts[1]);
  const off2 = await start('metrics-off-2');
  const sides = { off: [off1, off2], on: [on1, on2] };
  const jobs = { off: [(await introspection(off1)).job, (await introspection(off2)).job], on: [(await introspection(on1)).job, (await introspection(on2)).job] };
  await warmUp([...jobs.off, ...jobs.on]);
  const loadBefore = os.loadavg();
  const results: Record<'off' | 'on', LoadResult[]> = { off: [], on: [] };
  // CPU time the service spent per request: what the metrics cost, less disturbed than the rate
  // by how the scheduler shares two busy cores (Linux: utime + stime in /proc, 100 ticks a second).
  const cpuUs: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const cpuTicks = (service: NodeProcess) => {
    const fields = readFileSync(`/proc/${service.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  for (const [index, side] of ORDER.entries()) {
    const which = index % 2 === 0 ? 0 : 1;
    const before = cpuTicks(sides[side][which]!);
    const result = await load({ ...jobs[side][which]!, durationSec });
    results[side].push(result);
    cpuUs[side].push(((cpuTicks(sides[side][which]!) - before) * 10_000) / Math.max(1, result.total));
  }
  const loadAfter = os.loadavg();
  let introspected = 0;
  for (const port of metricsPorts) {
    const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    introspected += Number(/^portcullis_introspections_total\{result="active"\} (\d+)/m.exec(scrape)?.[1] ?? 0);
  }
  if (introspected === 0) throw new Error('the metrics side did not count its introspections');
  const mean = (rows: readonly LoadResult[]) => rows.reduce((sum, row) => sum + row.rate, 0) / rows.length;
  const median = (rows: readonly LoadResult[]) => {
    const rates = rows.map((row) => row.rate).sort((a, b) => a - b);
    return (rates[Math.floor((rates.length - 1) / 2)]! + rates[Math.ceil((rates.length - 1) / 2)]!) / 2;
  };
  const [off, on] = [mean(results.off), mean(results.on)];
  // The in-process floor, against the CPU each introspection had (the service's one core).
  const { nsPerRequest } = await metricsPathCost(smoke ? 20_000 : 300_000);
  const cpu = (side: 'off' | 'on') => cpuUs[side].reduce((sum, us) => sum + us, 0) / cpuUs[side].length;
  const row = (side: 'off' | 'on') =>
    `| metrics ${side} | ${results[side].map((r) => r.rate).join(', ')} | ${Math.round(mean(results[side]))} | ${Math.round(median(results[side]))} | ${cpuUs[side].map((us) => Math.round(us)).join(', ')} (mean ${Math.round(cpu(side))}) | ${results[side].map((r) => r.p99 ?? '-').join(', ')} | ${results[side].reduce((sum, r) => sum + r.failures, 0)} |`;
  process.stdout.write(
    [
      `Introspection with metrics on and off (${os.cpus().length} cores, ${SETTINGS.connections} connections, ${durationSec} s per measurement, order ${ORDER.join('-')}, two services a side taking turns)`,
      '',
      '| side | req/s per measurement | mean req/s | median req/s | service CPU µs per request | p99 ms | failures |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('off'),
      row('on'),
      '',
      `cost: ${(((off - on) / off) * 100).toFixed(1)} % of introspection throughput by the means, ${(((median(results.off) - median(results.on)) / median(results.off)) * 100).toFixed(1)} % by the medians, ${(((cpu('on') - cpu('off')) / cpu('off')) * 100).toFixed(1)} % more service CPU per request (budget 5 %); scraped ${introspected} active introspections`,
      `in process: the metrics add ${nsPerRequest} ns to an introspection, ${((nsPerRequest / (1e9 / off)) * 100).toFixed(2)} % of one core's time per request at ${Math.round(off)} req/s`,
      `load average (1, 5, 15 min): ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`,
      '',
    ].join('\n'),
  );
  await Promise.all([...sides.off, ...sides.on].map((service) => release(service)));
}

/** Issue 17: revoke on one instance, a push-mode verifier subscribed to another refuses. */
async function revocationPush(env: Record<string, string>): Promise<PushLatency> {
  const [a, b] = await Promise.all(['a', 'b'].map(async (name) => started(startService([CLI, 'serve'], env, await freePort(), path.join(jobDir, `portcullis-push-${name}.log`)), (s) => s.stop())));
  try {
    const { refresh_token: first } = await login(a!);
    let refresh = first!;
    const token = async () => {
      // A rotation per sample: a fresh access token without an argon2 verify each time.
      const rotated = await post(`${a!.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'bench-spa', refresh_token: refresh });
      refresh = rotated.refresh_token!;
      return rotated.access_token!;
    };
    return await measureRevocationPush({ revokeOn: a!.url, subscribeTo: b!.url, issuer: ISSUER, audience: AUDIENCE, clientId: 'bench-rs', clientSecret: RS_SECRET, token, revokingClient: 'bench-spa', samples: smoke ? 10 : 200 });
  } finally {
    await Promise.all([release(a!), release(b!)]);
  }
}

async function main(): Promise<void> {
  try {
    // Both settle before either is used: if one fails to start, the other is already in
    // `running`, so the finally stops it.
    const backends = [started(startRedis(), (r) => r.destroy()), started(startPostgres(), (p) => p.destroy())] as const;
    await Promise.allSettled(backends);
    const [redis, postgres] = await Promise.all(backends);
    if (metricsCostOnly) {
      await metricsCost(redis, postgres);
      return;
    }
    process.stderr.write(`bench: ${smoke ? 'smoke' : 'full'} run, ${os.cpus().length} cores; measuring argon2 bindings...\n`);
    const argon2 = await compareArgon2({ memoryKib: 19456, timeCost: 2, parallelism: 1 }, smoke ? { samples: 3, durationMs: 500 } : {});
    process.stderr.write('bench: portcullis scenarios...\n');
    const mine = await ours(redis, postgres, argon2);
    process.stderr.write('bench: floors (bare node:http, bare Koa) and WORKERS=2...\n');
    const floorScenarios = await floors();
    const workers = await twoWorkers(mine.env);
    process.stderr.write('bench: revocation push (revoke on one instance, a jwks-mode verifier on another refuses)...\n');
    const push = await revocationPush(mine.env);
    process.stderr.write('bench: portcullis on a Redis Cluster (3 masters)...\n');
    const redisCluster = await onCluster(mine.env);
    process.stderr.write('bench: node-oidc-provider scenarios...\n');
    const provider = await theirs(redis);
    const report: BenchReport = {
      date: new Date().toISOString(),
      mode: smoke ? 'smoke' : 'full',
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
      settings: SETTINGS,
      scenarios: [...mine.scenarios, ...workers],
      floors: floorScenarios,
      oidcProvider: provider,
      redisCluster,
      stuffingSetup: mine.stuffing.setup,
      stuffing: mine.stuffing.scenarios,
      rssMiB: mine.rssMiB,
      argon2,
      revocationPush: push,
    };
    const markdown = renderMarkdown(report);
    process.stdout.write(`${markdown}\n`);
    const failures = [...report.scenarios, ...report.oidcProvider, ...report.redisCluster, ...report.stuffing.map((s) => ({ ...s.introspection, name: s.name }))].filter((s) => s.total === 0);
    if (failures.length > 0) throw new Error(`scenarios with no successful request: ${failures.map((s) => s.name).join(', ')}`);
    // A count of answers includes errors (autocannon counts every response), so the check above
    // passes a row that only failed. The smoke run is CI's proof that both topologies work; at
    // its few connections nothing but a bug fails an introspection or a rotation.
    if (smoke) {
      const compared = [...report.scenarios.filter((s) => report.redisCluster.some((c) => c.id === s.id)), ...report.redisCluster.map((s) => ({ ...s, name: `${s.name} (Redis Cluster)` }))];
      const failed = compared.filter((s) => s.failures > 0);
      if (failed.length > 0) throw new Error(`failed requests in: ${failed.map((s) => `${s.name}: ${s.failures}`).join(', ')}`);
    }
    if (!smoke) {
      const dir = path.join(ROOT, 'bench/results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(path.join(dir, 'latest.md'), `${markdown}\n`);
    }
  } finally {
    await releaseAll();
  }
}

void main().catch((error: unknown) => {
  // Stopping the servers under a running scenario fails it; the signal is the news, not that.
  if (interrupted) process.exit(128 + os.constants.signals[interrupted]);
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
