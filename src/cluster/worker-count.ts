import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The cores this process may use: the CPUs Node sees, lowered to the container's CPU quota when
 * cgroup v2 sets one (`cpu.max` = "quota period"). Node 20's availableParallelism counts the
 * host's CPUs, so a pod limited to 2 CPUs on a 64-core node would start 64 workers.
 */
export function usableCores(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cpus = availableParallelism();
  try {
    const [quota, period] = readFileSync(cpuMaxFile, 'utf8').trim().split(/\s+/);
    const limit = Number(quota) / Number(period);
    if (quota !== 'max' && Number.isFinite(limit) && limit > 0) return Math.max(1, Math.min(cpus, Math.ceil(limit)));
  } catch {
    // No cgroup v2 file (not Linux, cgroup v1): the CPUs Node sees.
  }
  return cpus;
}

/** WORKERS as configured: a count, or `auto` for one per usable core. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? usableCores() : setting;
}
