import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { migrateCommand } from '../../src/cli/migrate';
import { loadConfig } from '../../src/config/config';
import { SECRET_SETTINGS } from '../../src/config/secret-files';

// deploy/docker-compose.yml and the Dockerfile, read as text: no Docker daemon is needed (nor
// available where the tests run). What could go wrong without anyone noticing until a deploy:
// a second build, a password in the file, a path that only works from deploy/, a scrape target on
// the wrong port, an image stage that needs a compiler.

const ROOT = path.resolve(__dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const compose = parse(readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as Record<string, any>;
const services = compose.services as Record<string, Record<string, any>>;
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

describe('deploy/docker-compose.yml', () => {
  it('builds the image once, from the repository root, and every other service reuses it', () => {
    const builders = Object.entries(services).filter(([, s]) => s.build);
    expect(builders.map(([name]) => name)).toEqual(['portcullis']);
    const [, portcullis] = builders[0]!;
    // Compose resolves relative paths from the file's directory, whatever the working directory.
    expect(existsSync(path.join(DEPLOY, portcullis.build.context, portcullis.build.dockerfile))).toBe(true);
    expect(path.resolve(DEPLOY, portcullis.build.context)).toBe(ROOT);
    const users = Object.entries(services).filter(([, s]) => s.image === portcullis.image);
    expect(users.map(([name]) => name).sort()).toEqual(['migrate', 'portcullis', 'resource-service']);
    for (const [, s] of users.filter(([, s]) => !s.build)) expect(s.pull_policy).toBe('never');
  });

  it('migrates once before the service starts', () => {
    expect(services.migrate!.command).toEqual([migrateCommand().name()]);
    expect(services.migrate!.restart).toBe('no');
    expect(services.portcullis!.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(services.migrate!.depends_on.postgres).toEqual({ condition: 'service_healthy' });
  });

  it('restarts every long-running service', () => {
    for (const [name, s] of Object.entries(services).filter(([n]) => n !== 'migrate')) expect({ name, restart: s.restart }).toEqual({ name, restart: 'unless-stopped' });
  });

  it('keeps Redis\'s data (AOF on a volume, no eviction) and waits for it to answer', () => {
    const redis = services.redis!;
    expect(redis.command.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.volumes).toEqual(['redisdata:/data']);
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(services.portcullis!.depends_on.redis).toEqual({ condition: 'service_healthy' });
    expect(services.postgres!.healthcheck.test[1]).toBe('pg_isready');
  });

  it('has no password in it: secrets are files under deploy/secrets/, which git ignores', () => {
    const text = readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/:\/\/[^/\s"]*:[^/\s"]*@/);
    for (const [name, s] of Object.entries(services)) {
      const env = Object.keys(s.environment ?? {});
      expect({ name, secrets: env.filter((k) => /PASSWORD$|^DATABASE_URL$|SECRET$/.test(k)) }).toEqual({ name, secrets: [] });
    }
    for (const secret of Object.values(compose.secrets as Record<string, { file: string }>)) expect(path.dirname(secret.file)).toBe('./secrets');
    expect(readFileSync(path.join(DEPLOY, '.gitignore'), 'utf8').split('\n')).toContain('secrets/');
  });

  it('gives the service a production config that loads, with each NAME_FILE a mounted secret', () => {
    const env = { ...services.portcullis!.environment } as Record<string, string>;
    const mounted = (services.portcullis!.secrets as (string | { source: string; target: string })[]).map((s) => `/run/secrets/${typeof s === 'string' ? s : s.target}`);
    expect(mounted).toContain(env.SIGNING_KEYS_FILE);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-compose-'));
    try {
      for (const name of SECRET_SETTINGS.filter((s) => env[`${s}_FILE`])) {
        expect(mounted).toContain(env[`${name}_FILE`]);
        env[`${name}_FILE`] = path.join(dir, name);
        writeFileSync(env[`${name}_FILE`]!, 'postgres://portcullis:pw@postgres:5432/portcullis\n');
      }
      // The image sets HOST=0.0.0.0 and PORT=8080 (Dockerfile).
      const config = loadConfig({ ...env, HOST: '0.0.0.0' });
      expect(config.production).toBe(true);
      expect(services.portcullis!.ports).toContain(`127.0.0.1:${config.port}:${config.port}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has Prometheus scrape the service\'s METRICS_PORT', () => {
    const prometheus = parse(readFileSync(path.join(DEPLOY, 'prometheus.yml'), 'utf8')) as Record<string, any>;
    const targets = prometheus.scrape_configs.flatMap((c: any) => c.static_configs.flatMap((s: any) => s.targets));
    expect(targets).toEqual([`portcullis:${services.portcullis!.environment.METRICS_PORT}`]);
    expect(services.prometheus!.volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds on a supported Node LTS, one base for every stage, pinnable by digest', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-[a-z]+-slim$/m.exec(dockerfile);
    expect(image && [22, 24].includes(Number(image[1]))).toBe(true);
    for (const stage of stages) expect(stage).toMatch(/^\$\{NODE_IMAGE\}/);
    // package.json's engines hold for the image's Node and for the Node running these tests.
    const engines = /^>=(\d+)\.(\d+)$/.exec(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node);
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(engines).not.toBeNull();
    expect(major! > Number(engines![1]) || (major === Number(engines![1]) && minor! >= Number(engines![2]))).toBe(true);
    expect(Number(image![1])).toBeGreaterThanOrEqual(Number(engines![1]));
  });

  it('needs no compiler and runs no install script: none is needed, and a runtime dependency\'s (@scarf/scarf) reports to a third party', () => {
    const installs = dockerfile.match(/npm (ci|install)[^\n]*/g) ?? [];
    expect(installs).toHaveLength(2);
    for (const line of installs) expect(line).toMatch(/--ignore-scripts/);
    expect(dockerfile).not.toMatch(/apt-get|build-essential|python3|g\+\+/);
  });

  it('runs as a numeric non-root user, checks health on PORT, and ships the migrations', () => {
    const runtime = stages[stages.length - 1]!;
    expect(runtime).toMatch(/^USER \$\{UID\}:\$\{UID\}$/m);
    expect(Number(/^ARG UID=(\d+)$/m.exec(runtime)?.[1])).toBeGreaterThanOrEqual(10000);
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*process\.env\.PORT[\s\S]*\/healthz/);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).include).toContain('migrations');
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]$/m);
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) {
      expect({ source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.includes(source.split('/')[0]!) }).toEqual({ source, ignored: false });
    }
  });
});
