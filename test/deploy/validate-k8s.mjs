// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes API's schemas, as
// the kubernetes-models package compiles them (Kubernetes 1.34 for kubernetes-models 5.1), and
// prints [{ id, error }] for each object that fails. A separate process because kubernetes-models
// is ESM with an import-only exports map, which jest's CommonJS module loader cannot resolve.
// A kind it has no model for is an error: every manifest must be checked.
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(0, 'utf8'));
const failures = [];
for (const object of objects) {
  const id = `${object.kind}/${object.metadata?.name}`;
  const apiVersion = String(object.apiVersion ?? '');
  // Core objects are kubernetes-models/v1/Kind; others kubernetes-models/<group>/<version>/Kind.
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(String(object.kind))) {
    failures.push({ id, error: `no apiVersion/kind to validate against (${apiVersion} ${object.kind})` });
    continue;
  }
  let Model;
  try {
    Model = (await import(`kubernetes-models/${apiVersion}/${object.kind}`))[object.kind];
  } catch {
    failures.push({ id, error: `kubernetes-models has no schema for ${apiVersion} ${object.kind}` });
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    failures.push({ id, error: error instanceof Error ? error.message : String(error) });
  }
}
process.stdout.write(JSON.stringify(failures));
