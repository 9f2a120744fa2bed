// Builds the package twice from one source: ESM into dist/esm (this package is "type": "module")
// and CommonJS into dist/cjs, whose own package.json says so, so Node and TypeScript read each
// folder's .js and .d.ts files in the right format. tsc alone: two small configs are cheaper to
// keep than a bundler. dist/ is removed first, so a renamed file never lingers in a tarball.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// `prepare` passes --if-sources: npm runs it on every install of the repository, including one
// from package.json files alone (a Docker dependency layer, without dev dependencies), where there
// is nothing to build and no compiler; the image builds the package in its build stage instead.
if (process.argv.includes('--if-sources') && !existsSync(path.join(root, 'src'))) {
  console.log('@portcullis/verifier: no sources here, nothing to build');
  process.exit(0);
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (config) => execFileSync(process.execPath, [tsc, '-p', path.join(root, config)], { stdio: 'inherit' });

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run('tsconfig.json');
run('tsconfig.cjs.json');
mkdirSync(path.join(root, 'dist/cjs'), { recursive: true });
writeFileSync(path.join(root, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
