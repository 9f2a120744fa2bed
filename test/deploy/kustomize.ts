import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

// Just enough of kustomize to render deploy/kubernetes without kubectl: resources (files and
// directories), configMapGenerator (envs and literals, create and merge), images, and patches
// that are JSON 6902 operations with a target. Anything else in a kustomization is refused, so
// a feature this does not know is a failing test, not a silently wrong rendering. Where kubectl
// is installed, manifests.test.ts also renders with the real kustomize and compares.

export type Manifest = Record<string, any>;

// Kubernetes reads manifests as YAML 1.1 (sigs.k8s.io/yaml): `defaultMode: 0440` is octal there
// and decimal 440 in YAML 1.2, the yaml package's default.
export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text, { version: '1.1' }).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

/** The KEY=VALUE lines of a kustomize env file (blank lines and # comments skipped). */
export function readEnvFile(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq < 1) throw new Error(`${file}: not KEY=VALUE: ${trimmed}`);
    data[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return data;
}

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'images', 'patches']);

export interface Kustomization {
  readonly dir: string;
  readonly spec: Manifest;
}

export function readKustomization(dir: string): Kustomization {
  const [spec] = parseManifests(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'), dir);
  if (!spec) throw new Error(`${dir}: empty kustomization.yaml`);
  const unknown = Object.keys(spec).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new Error(`${dir}: kustomization fields this renderer does not know: ${unknown.join(', ')}`);
  return { dir, spec };
}

export const idOf = (m: Manifest): string => `${m.kind}/${m.metadata?.name}`;

function generatorData(dir: string, generator: Manifest): Record<string, string> {
  const data: Record<string, string> = {};
  for (const file of generator.envs ?? []) Object.assign(data, readEnvFile(path.join(dir, file)));
  for (const literal of generator.literals ?? []) {
    const eq = String(literal).indexOf('=');
    data[String(literal).slice(0, eq)] = String(literal).slice(eq + 1);
  }
  return data;
}

/** RFC 6901 path segments. */
const pointer = (p: string): string[] => p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

export function applyJsonPatch(target: Manifest, ops: readonly Manifest[], where: string): void {
  for (const op of ops) {
    const parts = pointer(String(op.path));
    const last = parts.pop()!;
    let parent: any = target;
    for (const part of parts) {
      parent = parent?.[Array.isArray(parent) ? Number(part) : part];
      if (parent === undefined) throw new Error(`${where}: ${op.op} ${op.path}: no such path`);
    }
    const key = Array.isArray(parent) && last !== '-' ? Number(last) : last;
    if ((op.op === 'remove' || op.op === 'replace') && !(key in parent)) throw new Error(`${where}: ${op.op} ${op.path}: no such path`);
    if (op.op === 'remove') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
    else if (op.op === 'replace') parent[key] = op.value;
    else if (op.op === 'add') Array.isArray(parent) ? parent.splice(key === '-' ? parent.length : (key as number), 0, op.value) : (parent[key] = op.value);
    else throw new Error(`${where}: patch operation ${op.op} is not supported here`);
  }
}

function matches(m: Manifest, target: Manifest): boolean {
  const [group, version] = String(m.apiVersion).includes('/') ? String(m.apiVersion).split('/') : ['', m.apiVersion];
  return (
    (target.kind === undefined || target.kind === m.kind) &&
    (target.name === undefined || target.name === m.metadata?.name) &&
    (target.version === undefined || target.version === version) &&
    (target.group === undefined || target.group === group)
  );
}

/** The resources a kustomization directory renders to, without name hashes. */
export function render(dir: string): Manifest[] {
  const { spec } = readKustomization(dir);
  const out: Manifest[] = [];
  for (const entry of spec.resources ?? []) {
    const where = path.join(dir, entry);
    if (entry.endsWith('.yaml') || entry.endsWith('.yml')) out.push(...parseManifests(readFileSync(where, 'utf8'), where));
    else out.push(...render(where));
  }
  for (const generator of spec.configMapGenerator ?? []) {
    const data = generatorData(dir, generator);
    const existing = out.find((m) => m.kind === 'ConfigMap' && m.metadata.name === generator.name);
    if (generator.behavior === 'merge' || generator.behavior === 'replace') {
      if (!existing) throw new Error(`${dir}: configMapGenerator ${generator.behavior} of ${generator.name}, which no base generates`);
      existing.data = generator.behavior === 'merge' ? { ...existing.data, ...data } : data;
    } else {
      if (existing) throw new Error(`${dir}: configMapGenerator ${generator.name} exists already`);
      out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
    }
  }
  for (const patch of spec.patches ?? []) {
    if (!patch.target || typeof patch.patch !== 'string') throw new Error(`${dir}: only inline JSON 6902 patches with a target are supported`);
    const targets = out.filter((m) => matches(m, patch.target));
    if (targets.length === 0) throw new Error(`${dir}: patch target ${JSON.stringify(patch.target)} matches no resource`);
    const ops = parseManifests(patch.patch, `${dir} patch`)[0] as unknown as Manifest[];
    for (const target of targets) applyJsonPatch(target, ops, `${dir} patch on ${idOf(target)}`);
  }
  for (const image of spec.images ?? []) {
    for (const m of out) {
      for (const c of [...(m.spec?.template?.spec?.containers ?? []), ...(m.spec?.template?.spec?.initContainers ?? [])]) {
        if (c.image !== image.name) continue;
        c.image = `${image.newName ?? image.name}${image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : ''}`;
      }
    }
  }
  return out;
}

/** kubectl's kustomize, when kubectl is installed: undefined when it is not. */
export function kubectlKustomize(dir: string): Manifest[] | undefined {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${result.stderr}`);
  return parseManifests(result.stdout, `kubectl kustomize ${dir}`);
}

/**
 * Each object checked against the Kubernetes API's schemas as kubernetes-models compiles them
 * (Kubernetes 1.33 for kubernetes-models 4.5): [{ id, error }] for each that fails. A kind it has
 * no model for is a failure: every manifest must be checked.
 */
export function validateAgainstSchemas(manifests: readonly Manifest[]): { id: string; error: string }[] {
  const failures: { id: string; error: string }[] = [];
  for (const object of manifests) {
    const id = idOf(object);
    const apiVersion = String(object.apiVersion ?? '');
    // Core objects are kubernetes-models/v1/Kind; others kubernetes-models/<group>/<version>/Kind.
    if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(String(object.kind))) {
      failures.push({ id, error: `no apiVersion/kind to validate against (${apiVersion} ${object.kind})` });
      continue;
    }
    let Model: (new (data: Manifest) => { validate(): void }) | undefined;
    try {
      Model = require(`kubernetes-models/${apiVersion}/${object.kind}`)[object.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      failures.push({ id, error: `kubernetes-models has no schema for ${apiVersion} ${object.kind}` });
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      failures.push({ id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return failures;
}
