import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/env';
import { startServiceProcess, type ServiceProcess } from '../support/process';

// @portcullis/verifier as a resource service in another repository gets it: `npm pack` in
// packages/verifier, the tarball installed into a scratch project outside this repository, and
// used from an ES module (import) and from CommonJS (require) in child processes against a
// running Portcullis, then type-checked there under node16, nodenext and bundler resolution.
// Needs `npm run build` first (npm test does it), like every e2e test: the tarball is packed from
// packages/verifier/dist without running its build, which other tests may be importing meanwhile.

const ROOT = path.resolve(__dirname, '../..');
const PACKAGE = path.join(ROOT, 'packages/verifier');
const CONSUMER = path.join(ROOT, 'test/verifier/package-consumer');
const ISSUER = 'https://auth.verifier-package.test';
const AUDIENCE = 'https://items.verifier-package.test';
// The embedded development data's confidential client (README: demo data), allowed to introspect.
const CLIENT_ID = 'demo-api';
const CLIENT_SECRET = 'demo-api-secret-for-local-development-only';

const run = promisify(execFile);

/** The environment without what an enclosing `npm test` sets (npm_config_*, npm_package_*, ...),
 *  which the scratch project's npm would otherwise read as its own configuration. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'));
  return { ...env, ...extra };
}

interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

interface Seen {
  readonly resolved: string;
  readonly [mode: string]: unknown;
}

describe('@portcullis/verifier, packed and installed from the tarball into a project outside the repository', () => {
  let packed: Packed;
  let packs: string;
  let scratch: string;
  let service: ServiceProcess;
  let token: string;
  let forged: string;

  const consume = async (script: string): Promise<Seen> => {
    const { stdout } = await run(process.execPath, [script], {
      cwd: scratch,
      env: cleanEnv({ ISSUER, AUDIENCE, BASE: service.url, CLIENT_ID, CLIENT_SECRET, TOKEN: token, FORGED: forged }),
      timeout: 30_000,
    });
    return JSON.parse(stdout) as Seen;
  };

  beforeAll(async () => {
    if (!existsSync(path.join(PACKAGE, 'dist/cjs/index.js')) || !existsSync(path.join(PACKAGE, 'dist/esm/index.js'))) {
      throw new Error('packages/verifier/dist is missing: run `npm run build` first');
    }
    packs = tempDir('verifier-pack-');
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs], { cwd: PACKAGE, env: cleanEnv() });
    packed = (JSON.parse(stdout) as Packed[])[0]!;

    scratch = tempDir('verifier-consumer-');
    writeFileSync(path.join(scratch, 'package.json'), `${JSON.stringify({ name: 'items-service', version: '1.0.0', private: true })}\n`);
    // --prefer-offline: jose comes from npm's cache when it is there (this repository's own install
    // put it there), so a slow registry does not slow the test.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(packs, packed.filename)], { cwd: scratch, env: cleanEnv(), timeout: 120_000 });
    for (const file of ['esm.mjs', 'cjs.cjs']) copyFileSync(path.join(CONSUMER, file), path.join(scratch, file));

    service = await startServiceProcess({ DATA_DIR: tempDir(), ISSUER, DEFAULT_AUDIENCE: AUDIENCE });
    const issued = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'items:read' }),
    });
    expect(issued.status).toBe(200);
    token = ((await issued.json()) as { access_token: string }).access_token;
    // The same token with its scope raised to admin: the signature no longer matches.
    const [header, payload, signature] = token.split('.');
    const claims = { ...(JSON.parse(Buffer.from(payload!, 'base64url').toString()) as object), scope: 'admin' };
    forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  }, 180_000);

  afterAll(async () => {
    for (const dir of [packs, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
    if (!service) return;
    service.child.kill('SIGTERM');
    await service.exited();
  });

  it('packs the built package only: ESM, CommonJS, the types of each, and no sources', () => {
    const files = packed.files.map((file) => file.path);
    for (const file of ['package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) expect(files).toContain(file);
    expect(files.filter((file) => !file.startsWith('dist/') && file !== 'package.json' && file !== 'README.md')).toEqual([]);
    // The figure README quotes (The verifier, installable by resource services).
    process.stdout.write(`[verifier-package] ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ${packed.entryCount} files\n`);
    expect(packed.size).toBeLessThan(64 * 1024);
  });

  it('installs with jose as its only dependency, and nothing of the server', () => {
    expect(path.relative(ROOT, scratch).startsWith('..')).toBe(true);
    const installed = readdirSync(path.join(scratch, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed.sort()).toEqual(['@portcullis', 'jose']);
  });

  const expected = {
    jwks: { token: { ok: true, sub: CLIENT_ID, subjectType: 'client' }, forged: { ok: false, status: 401, error: 'invalid_token' } },
    introspect: { token: { ok: true, sub: CLIENT_ID, subjectType: 'client' }, forged: { ok: false, status: 401, error: 'invalid_token' } },
  };

  it('from an ES module (import): verifies a real token and refuses a forged one, in both modes and through the node:http adapter', async () => {
    const seen = await consume('esm.mjs');
    expect(seen.resolved).toMatch(/node_modules\/@portcullis\/verifier\/dist\/esm\/index\.js$/);
    expect(seen).toMatchObject(expected);
    expect(seen.http).toEqual({ token: [200, CLIENT_ID], forged: [401, expect.stringMatching(/^Bearer realm="api", error="invalid_token"/)] });
  });

  it('from CommonJS (require): the same, with the Express and Fastify adapters loading without their frameworks', async () => {
    const seen = await consume('cjs.cjs');
    expect(seen.resolved).toMatch(/node_modules\/@portcullis\/verifier\/dist\/cjs\/index\.js$/);
    expect(seen).toMatchObject(expected);
    expect(seen.adapters).toEqual(['function', 'function']);
  });

  it.each([
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])('types every entry point under module %s, moduleResolution %s (CommonJS and ESM consumers)', async (module, moduleResolution) => {
    copyFileSync(path.join(CONSUMER, 'consumer.ts'), path.join(scratch, 'consumer.ts'));
    copyFileSync(path.join(CONSUMER, 'consumer.ts'), path.join(scratch, 'consumer.mts'));
    // The scratch project has no type packages of its own: Node's and Koa's come from this
    // repository's @types, and fastify's own types from its package, as a service on them has.
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        target: 'es2022',
        module,
        moduleResolution,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        paths: { fastify: [path.join(ROOT, 'node_modules/fastify/fastify.d.ts')] },
      },
      files: ['consumer.ts', 'consumer.mts'],
    };
    const tsconfig = path.join(scratch, `tsconfig.${moduleResolution}.json`);
    writeFileSync(tsconfig, JSON.stringify(config));
    const tsc = require.resolve('typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', tsconfig, '--listFiles'], { cwd: scratch, timeout: 60_000 }).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`tsc failed under ${moduleResolution}:\n${error.stdout ?? error.message}`);
    });
    const listed = stdout.split('\n');
    const typed = (format: string) => listed.some((file) => file.endsWith(`@portcullis/verifier/dist/${format}/index.d.ts`));
    // node16 and nodenext read consumer.ts as CommonJS (require condition) and consumer.mts as
    // ESM (import condition); bundler resolution always takes the import condition.
    expect({ cjs: typed('cjs'), esm: typed('esm') }).toEqual(moduleResolution === 'bundler' ? { cjs: false, esm: true } : { cjs: true, esm: true });
  }, 90_000);
});
