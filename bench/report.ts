import type { Argon2Comparison } from './argon2';
import type { LoadResult } from './load';
import type { PushLatency } from './revocation-push';

export interface Scenario extends LoadResult {
  readonly id: string;
  readonly name: string;
  readonly unit: string;
}

/** Introspection measured beside a credential-stuffing load (or alone, for the baseline). */
export interface StuffingScenario {
  readonly id: string;
  readonly name: string;
  readonly introspection: LoadResult;
  /** The stuffing load; absent for the baseline. */
  readonly stuffing?: LoadResult;
}

/** What the stuffing scenarios sent: the pools its guesses were drawn from. */
export interface StuffingSetup {
  readonly addresses: number;
  readonly addressRange: string;
  readonly usernames: number;
  readonly existingUsernames: number;
  readonly connections: number;
  readonly introspectionConnections: number;
}

export interface BenchReport {
  readonly date: string;
  readonly mode: 'smoke' | 'full';
  readonly machine: { readonly cores: number; readonly cpu: string; readonly memoryGiB: number; readonly node: string; readonly platform: string };
  readonly settings: Readonly<Record<string, number>>;
  readonly scenarios: readonly Scenario[];
  /** Issue 17: a bare node:http handler and a bare Koa app, same run and load. */
  readonly floors: readonly Scenario[];
  readonly oidcProvider: readonly Scenario[];
  /** Issue 13: scenarios of `scenarios` again (same ids), the token store on a three-master Redis Cluster. */
  readonly redisCluster: readonly Scenario[];
  readonly stuffingSetup: StuffingSetup;
  readonly stuffing: readonly StuffingScenario[];
  readonly rssMiB: number;
  readonly argon2: Argon2Comparison;
  /** Issue 17: POST /oauth/revoke on one instance to a push-mode verifier on another refusing. */
  readonly revocationPush?: PushLatency;
}

const ms = (value: number | undefined) => (value === undefined ? '–' : `${value} ms`);

const percent = (share: number) => `${Math.round(share * 1000) / 10} %`;

function stuffingRow(s: StuffingScenario): string {
  const i = s.introspection;
  const g = s.stuffing?.guesses;
  const guesses = g ? `${s.stuffing!.rate}/s | ${g.checkedRate}/s | ${g.refusedRate}/s (${percent(g.refusedShare)}) | ${g.shed}` : '– | – | – | –';
  return `| ${s.name} | ${i.rate} req/s | ${ms(i.p50)} | ${ms(i.p99)} | ${guesses} | ${i.failures + (s.stuffing?.failures ?? 0)} |`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

/** The markdown table of a run, with the targets of the benchmark issue and whether each was met. */
export function renderMarkdown(report: BenchReport): string {
  const by = (id: string) => report.scenarios.find((s) => s.id === id);
  const theirs = (id: string) => report.oidcProvider.find((s) => s.id === id);
  const ratio = (id: string) => {
    const a = by(id)?.rate ?? 0;
    const b = theirs(id)?.rate ?? 0;
    return b > 0 ? Math.round((a / b) * 100) / 100 : 0;
  };
  const floor = (id: string) => report.floors.find((s) => s.id === id)?.rate ?? 0;
  const floorShare = (s: Scenario) => (floor('floor-node-http') > 0 ? percent(s.rate / floor('floor-node-http')) : '–');
  const healthzShare = floor('floor-koa') > 0 ? (by('healthz')?.rate ?? 0) / floor('floor-koa') : 0;
  const forwardRatio = (theirs('introspection')?.rate ?? 0) > 0 ? Math.round(((by('forward-auth')?.rate ?? 0) / theirs('introspection')!.rate) * 100) / 100 : 0;
  const workerScale = (by('introspection')?.rate ?? 0) > 0 ? Math.round(((by('introspection-2-workers')?.rate ?? 0) / by('introspection')!.rate) * 100) / 100 : 0;
  const lines = [
    `Portcullis benchmark (${report.mode}), ${report.date}`,
    `Machine: ${report.machine.cores} cores (${report.machine.cpu}), ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, ${report.machine.platform}. ` +
      `Service, Redis, PostgreSQL and the load generator (its own process) share these cores. ${report.settings.durationSec} s per scenario, ` +
      `${report.settings.connections} connections unless said otherwise.`,
    '',
    '| scenario | rate | p50 | p99 | failures | ÷ bare node:http |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...report.floors.map((s) => `| ${s.name} | ${s.rate} ${s.unit} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.failures} | ${floorShare(s)} |`),
    ...report.scenarios.map((s) => `| ${s.name} | ${s.rate} ${s.unit} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.failures} | ${s.unit === 'req/s' ? floorShare(s) : '–'} |`),
    `| 8. resident memory of the service after the run | ${report.rssMiB} MiB | | | |`,
    '',
    '| node-oidc-provider, same run and load | rate | p50 | p99 | ours ÷ theirs |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.oidcProvider.map((s) => `| ${s.name} | ${s.rate} ${s.unit} | ${ms(s.p50)} | ${ms(s.p99)} | ${ratio(s.id)}× |`),
    '',
    'The same scenarios with the token store on a Redis Cluster of three masters (no replicas) on loopback, three more redis-server processes on these cores: ' +
      'the same PostgreSQL, users, clients, settings, connections and duration, measured once the standalone service has stopped. ' +
      "The introspected token and the refresh families are one user's, so one hash slot: one master serves them, as it would one user's requests.",
    '',
    '| Redis topology, same run and load | standalone | p50 | p99 | Redis Cluster, 3 masters | p50 | p99 | cluster ÷ standalone | failures (standalone / cluster) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.redisCluster.map((c) => {
      const s = by(c.id);
      const ratio = s && s.rate > 0 ? `${Math.round((c.rate / s.rate) * 100) / 100}×` : '–';
      return `| ${c.name} | ${s ? `${s.rate} ${s.unit}` : '–'} | ${ms(s?.p50)} | ${ms(s?.p99)} | ${c.rate} ${c.unit} | ${ms(c.p50)} | ${ms(c.p99)} | ${ratio} | ${s?.failures ?? '–'} / ${c.failures} |`;
    }),
    '',
    `Credential stuffing beside introspection: ${report.stuffingSetup.connections} connections of wrong passwords, each for a username drawn from ` +
      `${report.stuffingSetup.usernames} (${report.stuffingSetup.existingUsernames} of them real users) from an address drawn from ${report.stuffingSetup.addresses} ` +
      `in ${report.stuffingSetup.addressRange} (X-Forwarded-For, TRUST_PROXY=1); introspection on ${report.stuffingSetup.introspectionConnections} connections beside it. ` +
      'Checked: answered 400 invalid_grant after an argon2 verify. Refused: answered 429 by the failed-credential throttle, before any hashing. ' +
      'Shed: answered 429/503 by the password-hash queue.',
    '',
    '| introspection during credential stuffing | introspection rate | p50 | p99 | guesses | checked | refused | shed | failures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.stuffing.map(stuffingRow),
    '',
    `| password hashing, argon2id m=${report.argon2.params.memoryKib} KiB t=${report.argon2.params.timeCost} p=${report.argon2.params.parallelism} | one hash (p50) | hashes/s (all cores) |`,
    '| --- | ---: | ---: |',
    ...report.argon2.results.map((r) => `| ${r.binding} | ${r.p50Ms} ms | ${r.hashesPerSec} |`),
    '',
    `PHC strings compatible both ways: ${report.argon2.compatible ? 'yes' : 'no'}.`,
    '',
    '| target | result | |',
    '| --- | --- | --- |',
    `| introspection ≥ 2.5× node-oidc-provider's | ${ratio('introspection')}× | ${verdict(ratio('introspection') >= 2.5)} |`,
    `| forward-auth ≥ 3× node-oidc-provider's introspection | ${forwardRatio}× | ${verdict(forwardRatio >= 3)} |`,
    `| client_credentials ≥ 2× node-oidc-provider's (JWT) | ${ratio('client-credentials')}× | ${verdict(ratio('client-credentials') >= 2)} |`,
    `| /healthz ≥ 80 % of a bare Koa app | ${percent(healthzShare)} | ${verdict(healthzShare >= 0.8)} |`,
    `| introspection p99 < 10 ms | ${ms(by('introspection')?.p99)} | ${verdict((by('introspection')?.p99 ?? Infinity) < 10)} |`,
    `| forward-auth p99 < 10 ms | ${ms(by('forward-auth')?.p99)} | ${verdict((by('forward-auth')?.p99 ?? Infinity) < 10)} |`,
    `| introspection WORKERS=2 ≥ 1.6× WORKERS=1 (needs cores the load generator does not use; this machine has ${report.machine.cores}) | ${workerScale}× | ${verdict(workerScale >= 1.6)} |`,
    `| introspection p99 < 20 ms during the password storm | ${ms(by('introspection-storm')?.p99)} | ${verdict((by('introspection-storm')?.p99 ?? Infinity) < 20)} |`,
    `| refresh ≥ 3,000 rotations/s | ${by('refresh')?.rate ?? 0}/s | ${verdict((by('refresh')?.rate ?? 0) >= 3000)} |`,
    ...(report.revocationPush
      ? [`| revocation push p99 < 100 ms (revoke on instance A → jwks-mode verifier subscribed to B refuses; ${report.revocationPush.samples} revocations, p50 ${report.revocationPush.p50} ms, max ${report.revocationPush.max} ms) | ${report.revocationPush.p99} ms | ${verdict(report.revocationPush.p99 < 100)} |`]
      : []),
  ];
  return lines.join('\n');
}
