import { readBoundedFile } from './bounded-file';

// The Docker/Kubernetes secrets convention: a setting that carries a secret may instead name a
// file (a mounted secret) in NAME_FILE, whose content is the value. The files are read once,
// while the config loads, like the rest of the environment: a changed file takes a restart.
// SIGNING_KEYS_FILE is not one of these: it is a setting of its own, watched and reloaded
// (config/key-reload.ts).

/** The settings that carry a secret, each of which also accepts NAME_FILE. */
export const SECRET_SETTINGS = ['DATABASE_URL', 'REDIS_URL', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD'] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

// A secret is a URL or a password: anything larger is the wrong file (a key bundle, a log).
const MAX_BYTES = 64 * 1024;

export interface SecretFiles {
  /** The environment with each NAME_FILE's content in NAME. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The settings whose value came from a file, and that file's variable, for error messages. */
  readonly fromFile: ReadonlyMap<string, string>;
  /** What is wrong, naming the variables and paths, never a file's content. */
  readonly problems: readonly string[];
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The content of a secret file: exactly one trailing line break ("\n" or "\r\n", which `echo` and
 * editors add) is dropped and nothing else, since a password may end in spaces.
 */
export function readSecret(file: string): { value: string } | { problem: string } {
  const read = readBoundedFile(file, MAX_BYTES, 'not a secret');
  if ('problem' in read) return read;
  const value = read.text.replace(/\r?\n$/, '');
  if (value === '') return { problem: 'is empty' };
  return { value };
}

/** Puts the content of every NAME_FILE given into NAME; both set is a problem, as is a file that cannot be read. */
export function readSecretFiles(env: Readonly<Record<string, string | undefined>>): SecretFiles {
  const merged: Record<string, string | undefined> = { ...env };
  const fromFile = new Map<string, string>();
  const problems: string[] = [];
  for (const name of SECRET_SETTINGS) {
    const fileVariable = `${name}_FILE`;
    const file = env[fileVariable];
    if (!set(file)) continue;
    if (set(env[name])) {
      problems.push(`${name} and ${fileVariable}: set one, not both`);
      continue;
    }
    const result = readSecret(file);
    if ('problem' in result) {
      problems.push(`${fileVariable}: "${file}" ${result.problem}`);
      continue;
    }
    merged[name] = result.value;
    fromFile.set(name, fileVariable);
  }
  return { env: merged, fromFile, problems };
}
