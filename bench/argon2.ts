import { cpus } from 'node:os';
import * as nodeArgon2 from 'argon2';
import * as rsArgon2 from '@node-rs/argon2';

// The password-hash binding, measured against @node-rs/argon2 at the service's parameters
// (argon2id, OWASP minimum unless configured otherwise): one hash's time (p50 of sequential
// hashes) and hashes/s with one hash in flight per core.

export interface Argon2Params {
  readonly memoryKib: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface BindingResult {
  readonly binding: string;
  readonly p50Ms: number;
  readonly hashesPerSec: number;
}

export interface Argon2Comparison {
  readonly params: Argon2Params;
  readonly results: readonly BindingResult[];
  /** Each binding verifies the other's PHC strings. */
  readonly compatible: boolean;
}

interface Binding {
  readonly name: string;
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

function bindings(params: Argon2Params): Binding[] {
  return [
    {
      name: 'argon2',
      hash: (password) => nodeArgon2.hash(password, { type: nodeArgon2.argon2id, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism }),
      verify: (hash, password) => nodeArgon2.verify(hash, password),
    },
    {
      name: '@node-rs/argon2',
      hash: (password) => rsArgon2.hash(password, { algorithm: rsArgon2.Algorithm.Argon2id, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism }),
      verify: (hash, password) => rsArgon2.verify(hash, password),
    },
  ];
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(binding: Binding, samples: number, durationMs: number): Promise<BindingResult> {
  await binding.hash('warm-up-password');
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const started = process.hrtime.bigint();
    await binding.hash(`password-${i}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  let done = 0;
  const deadline = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: cpus().length }, async () => {
      while (Date.now() < deadline) {
        await binding.hash(`password-${done}`);
        done += 1;
      }
    }),
  );
  return { binding: binding.name, p50Ms: Math.round(median(times) * 10) / 10, hashesPerSec: Math.round((done / (Date.now() - started)) * 10000) / 10 };
}

export async function compareArgon2(params: Argon2Params, { samples = 15, durationMs = 3000 } = {}): Promise<Argon2Comparison> {
  const [a, b] = bindings(params) as [Binding, Binding];
  const results = [await measure(a, samples, durationMs), await measure(b, samples, durationMs)];
  const compatible = (await b.verify(await a.hash('cross-check'), 'cross-check')) && (await a.verify(await b.hash('cross-check'), 'cross-check'));
  return { params, results, compatible };
}
