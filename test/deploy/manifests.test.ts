import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateCommand } from '../../src/cli/migrate';
import { serveCommand } from '../../src/cli/serve';
import { loadConfig, type Config } from '../../src/config/config';
import { envSchema } from '../../src/config/schema';
import { SECRET_SETTINGS } from '../../src/config/secret-files';
import { idOf, kubectlKustomize, parseManifests, readKustomization, render, validateAgainstSchemas, type Manifest } from './kustomize';

// deploy/kubernetes against the Kubernetes API's schemas and against the service's own config:
// the ports it listens on, the settings it reads, how long it drains.

const ROOT = path.resolve(__dirname, '../..');
const BASE = path.join(ROOT, 'deploy/kubernetes/base');
const SENTINEL = path.join(ROOT, 'deploy/kubernetes/overlays/sentinel');
const KUBECTL_RENDERING = path.join(ROOT, 'test/deploy/kubectl-rendered.json');

const one = (ms: readonly Manifest[], kind: string, name: string): Manifest => {
  const found = ms.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return found[0]!;
};
const podSpec = (m: Manifest) => m.spec.template.spec;
const container = (m: Manifest) => podSpec(m).containers[0];
const matchesLabels = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** loadConfig on a ConfigMap's settings, each NAME_FILE pointing at a throwaway file of the right shape. */
function configFrom(data: Record<string, string>): Config {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-manifests-'));
  const samples: Record<string, string> = { DATABASE_URL: 'postgres://portcullis:pw@postgres:5432/portcullis', REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'pw' };
  try {
    const env: Record<string, string> = { ...data };
    for (const name of SECRET_SETTINGS) {
      if (!env[`${name}_FILE`]) continue;
      env[`${name}_FILE`] = path.join(dir, name);
      writeFileSync(env[`${name}_FILE`]!, `${samples[name]}\n`);
    }
    return loadConfig(env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rendered = { base: render(BASE), sentinel: render(SENTINEL) };

describe('deploy/kubernetes: the manifests are valid Kubernetes objects', () => {
  it('lists every manifest in base/ in its kustomization, and nothing that is not there', () => {
    const listed = readKustomization(BASE).spec.resources as string[];
    const files = readdirSync(BASE).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(files.sort());
  });

  it('validates every manifest file against the Kubernetes 1.33 schemas (kubernetes-models)', () => {
    const files = (readKustomization(BASE).spec.resources as string[]).map((f) => path.join(BASE, f));
    const manifests = files.flatMap((f) => parseManifests(readFileSync(f, 'utf8'), f));
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    expect(validateAgainstSchemas(manifests)).toEqual([]);
  });

  it('validates the rendered base and sentinel overlay, generated ConfigMap and patches included', () => {
    expect(validateAgainstSchemas([...rendered.base, ...rendered.sentinel])).toEqual([]);
    expect(rendered.base.map(idOf).sort()).toEqual(
      ['ConfigMap/portcullis-config', 'Deployment/portcullis', 'HorizontalPodAutoscaler/portcullis', 'Job/portcullis-migrate', 'NetworkPolicy/portcullis', 'PodDisruptionBudget/portcullis', 'Service/portcullis'].sort(),
    );
  });

  it('the schema validator refuses a broken manifest (it is not a no-op)', () => {
    const broken = structuredClone(one(rendered.base, 'Deployment', 'portcullis'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    delete broken.spec.selector;
    const errors = validateAgainstSchemas([broken]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toMatch(/selector|containerPort/);
  });

  // kubectl carries kustomize, but a fresh CI machine may not have it (Debian does not package
  // it). Its rendering of base and overlay is kept in test/deploy/kubectl-rendered.json: this
  // test's renderer must match it everywhere, and where kubectl is installed the recording must
  // match kubectl too (refresh it with UPDATE_KUBECTL_RENDERING=1 after changing a manifest).
  it('renders base and overlay as kubectl kustomize does (names aside, which it hashes)', () => {
    const unhash = (ms: Manifest[]) => JSON.parse(JSON.stringify(ms).replace(/"portcullis-config-[a-z0-9]{10}"/g, '"portcullis-config"')) as Manifest[];
    const byId = (ms: readonly Manifest[]) => Object.fromEntries(ms.map((m) => [idOf(m), m]));
    const live = { base: kubectlKustomize(BASE), sentinel: kubectlKustomize(SENTINEL) };
    if (live.base && live.sentinel && process.env.UPDATE_KUBECTL_RENDERING === '1') {
      writeFileSync(KUBECTL_RENDERING, `${JSON.stringify({ base: byId(unhash(live.base)), sentinel: byId(unhash(live.sentinel)) }, null, 2)}\n`);
    }
    const recorded = JSON.parse(readFileSync(KUBECTL_RENDERING, 'utf8')) as Record<'base' | 'sentinel', Record<string, Manifest>>;
    expect(byId(rendered.base)).toEqual(recorded.base);
    expect(byId(rendered.sentinel)).toEqual(recorded.sentinel);
    if (live.base) expect(byId(unhash(live.base))).toEqual(recorded.base);
    if (live.sentinel) expect(byId(unhash(live.sentinel))).toEqual(recorded.sentinel);
  });
});

describe('deploy/kubernetes: the Deployment runs the service as its config says', () => {
  const deployment = one(rendered.base, 'Deployment', 'portcullis');
  const configMap = one(rendered.base, 'ConfigMap', 'portcullis-config');
  const config = configFrom(configMap.data);
  const app = container(deployment);
  const port = (name: string) => app.ports.find((p: Manifest) => p.name === name)?.containerPort;

  it('sets only settings the service reads, and they load as a valid production config', () => {
    const known = new Set([...Object.keys(envSchema.shape), ...SECRET_SETTINGS.map((s) => `${s}_FILE`)]);
    expect(Object.keys(configMap.data).filter((name) => !known.has(name))).toEqual([]);
    expect(app.env ?? []).toEqual([]);
    expect(app.envFrom).toEqual([{ configMapRef: { name: 'portcullis-config' } }]);
    expect(config.production).toBe(true);
    expect(config.issuer).toMatch(/^https:\/\//);
  });

  it('listens where the pod is reached: HOST on every address, PORT the container port the probes and Service use', () => {
    expect(config.host).toBe('0.0.0.0');
    expect(port('http')).toBe(config.port);
    for (const probe of [app.startupProbe, app.livenessProbe, app.readinessProbe]) expect(probe.httpGet.port).toBe('http');
    expect(app.livenessProbe.httpGet.path).toBe('/healthz');
    expect(app.startupProbe.httpGet.path).toBe('/healthz');
    expect(app.readinessProbe.httpGet.path).toBe('/readyz');
    // /readyz waits up to READINESS_TIMEOUT_MS for a backend; the probe must wait longer.
    expect(app.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(config.readinessTimeoutMs);
    const service = one(rendered.base, 'Service', 'portcullis');
    expect(service.spec.ports.map((p: Manifest) => p.targetPort)).toEqual(['http']);
  });

  it('exposes the metrics port as METRICS_PORT (9464), never through the Service', () => {
    expect(configMap.data.METRICS_PORT).toBe('9464');
    expect(port('metrics')).toBe(9464);
    // Once the schema has it, the service must parse the ConfigMap's value as this port.
    expect(config.metricsPort).toBe(9464);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe('9464');
    expect(JSON.stringify(one(rendered.base, 'Service', 'portcullis').spec.ports)).not.toMatch(/metrics|9464/);
  });

  it('drains within the grace period: preStop sleep, then SHUTDOWN_TIMEOUT, then closing the backends', () => {
    const [sleep, seconds] = app.lifecycle.preStop.exec.command as string[];
    expect(sleep).toBe('sleep');
    const preStop = Number(seconds);
    expect(preStop).toBeGreaterThanOrEqual(3);
    expect(podSpec(deployment).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + config.shutdownTimeoutSec + 5);
  });

  it('runs as the image\'s non-root user on a read-only root filesystem, in production mode, with requests and limits', () => {
    const uid = Number(/^ARG UID=(\d+)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1]);
    expect(uid).toBeGreaterThan(0);
    for (const workload of [deployment, one(rendered.base, 'Job', 'portcullis-migrate')]) {
      const pod = podSpec(workload);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
        expect(c.image).toBe(app.image);
      }
    }
    expect(config.env).toBe('production');
  });

  it('mounts every file a setting names, from Secrets readable by the service\'s group only, without subPath', () => {
    const mounts = app.volumeMounts as Manifest[];
    const fileSettings = Object.keys(configMap.data).filter((name) => name.endsWith('_FILE'));
    expect(fileSettings.sort()).toEqual(['CLIENTS_FILE', 'DATABASE_URL_FILE', 'REDIS_URL_FILE', 'SIGNING_KEYS_FILE']);
    for (const name of fileSettings) {
      // Kubelet updates a Secret volume by swapping a symlink; a subPath mount never sees it.
      const mount = mounts.find((m) => configMap.data[name].startsWith(`${m.mountPath}/`));
      expect({ name, mounted: mount !== undefined, subPath: mount?.subPath }).toEqual({ name, mounted: true, subPath: undefined });
    }
    for (const volume of podSpec(deployment).volumes.filter((v: Manifest) => v.secret)) expect(volume.secret.defaultMode).toBe(0o440);
  });

  it('the migration Job runs `portcullis migrate` and can read every secret file the config loads', () => {
    const job = one(rendered.base, 'Job', 'portcullis-migrate');
    const migrate = container(job);
    expect(migrate.args).toEqual([migrateCommand().name()]);
    expect(app.args).toEqual([serveCommand().name()]);
    expect(podSpec(job).restartPolicy).toBe('Never');
    expect(migrate.envFrom).toEqual(app.envFrom);
    for (const name of SECRET_SETTINGS.map((s) => `${s}_FILE`).filter((n) => configMap.data[n])) {
      expect({ name, mounted: migrate.volumeMounts.some((m: Manifest) => configMap.data[name].startsWith(`${m.mountPath}/`)) }).toEqual({ name, mounted: true });
    }
  });

  it('selects the server pods only (not the Job\'s) in the Service, PodDisruptionBudget, NetworkPolicy and autoscaler', () => {
    const serverLabels = deployment.spec.template.metadata.labels;
    const jobLabels = one(rendered.base, 'Job', 'portcullis-migrate').spec.template.metadata.labels;
    expect(matchesLabels(deployment.spec.selector.matchLabels, serverLabels)).toBe(true);
    const selectors = [one(rendered.base, 'Service', 'portcullis').spec.selector, one(rendered.base, 'PodDisruptionBudget', 'portcullis').spec.selector.matchLabels, one(rendered.base, 'NetworkPolicy', 'portcullis').spec.podSelector.matchLabels];
    for (const selector of selectors) expect([matchesLabels(selector, serverLabels), matchesLabels(selector, jobLabels)]).toEqual([true, false]);
    const hpa = one(rendered.base, 'HorizontalPodAutoscaler', 'portcullis');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'portcullis' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('admits the API port from anywhere and the metrics port only from the monitoring namespace', () => {
    const rules = one(rendered.base, 'NetworkPolicy', 'portcullis').spec.ingress as Manifest[];
    const forPort = (name: string) => rules.filter((r) => r.ports.some((p: Manifest) => p.port === name));
    expect(forPort('http')).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    expect(forPort('metrics')).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
    expect(rules.every((r) => Array.isArray(r.ports) && r.ports.length > 0)).toBe(true);
  });
});

describe('deploy/kubernetes/overlays/sentinel', () => {
  it('patches only resources the base has', () => {
    const base = new Set(rendered.base.map(idOf));
    const { spec } = readKustomization(SENTINEL);
    for (const patch of spec.patches) expect(base.has(`${patch.target.kind}/${patch.target.name}`)).toBe(true);
    for (const generator of spec.configMapGenerator) expect(base.has(`ConfigMap/${generator.name}`)).toBe(true);
  });

  it('loads as a valid production config in sentinel mode, with the Redis password from a file and no REDIS_URL', () => {
    const data = one(rendered.sentinel, 'ConfigMap', 'portcullis-config').data;
    expect(data.REDIS_URL_FILE).toBeUndefined();
    const config = configFrom(data);
    expect(config.redis).toMatchObject({ mode: 'sentinel', name: 'portcullis', password: 'pw' });
    expect(config.redis?.mode === 'sentinel' && config.redis.sentinels.length).toBe(3);
    const mounts = container(one(rendered.sentinel, 'Deployment', 'portcullis')).volumeMounts as Manifest[];
    expect(mounts.some((m) => data.REDIS_PASSWORD_FILE.startsWith(`${m.mountPath}/`))).toBe(true);
  });

  it('changes nothing but the config', () => {
    const strip = (ms: Manifest[]) => ms.filter((m) => m.kind !== 'ConfigMap');
    expect(strip(rendered.sentinel)).toEqual(strip(rendered.base));
  });
});
