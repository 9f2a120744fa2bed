import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { DatabaseUnavailable } from './startup-errors';

// PGlite is one process's database: a second process opening the same directory gets its own
// copy in memory, and what it writes is lost (the CLI printed success while `npm start` ran on
// the same DATA_DIR). So whichever process opens the embedded database holds a lock file with
// its pid; a second one is refused, naming the holder. A lock whose process has died (SIGKILL,
// a crash) is taken over.

/** Locks this process holds, by file: a second open in the same process is refused too. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in the lock when a live process holds it; undefined when the lock is stale. Our own
 *  pid counts as stale unless this process holds the lock: a container restarted with the
 *  same pid (1) left it behind. */
function holder(file: string): number | undefined {
  const pid = readPid(file);
  if (pid === undefined) return undefined;
  if (pid === process.pid) return held.has(file) ? pid : undefined;
  return alive(pid) ? pid : undefined;
}

function inUse(dataDir: string, pid: number): DatabaseUnavailable {
  return new DatabaseUnavailable(
    'database.in_use',
    `DATA_DIR ${dataDir} is in use by pid ${pid}${pid === process.pid ? ' (this process)' : ''}: the embedded database (PGlite) serves one process at a time; stop that process (npm start) first, or use PostgreSQL (DATABASE_URL)`,
    { dataDir, pid },
  );
}

/**
 * Takes the lock `file` for `dataDir`, or throws `database.in_use`. Returns the release, which
 * removes the file only while it still names this process.
 */
export function lockDataDir(file: string, dataDir: string): () => void {
  // The pid is written to a private file first and linked into place: the lock appears whole,
  // and link() fails if it exists, so of two processes starting together one wins.
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = holder(file);
      if (pid !== undefined || attempt >= 5) throw inUse(dataDir, pid ?? readPid(file) ?? 0);
      takeOver(file, dataDir);
    }
  } finally {
    unlinkSync(mine);
  }
  held.add(file);
  const release = (): void => {
    if (!held.delete(file)) return;
    process.off('exit', release);
    if (readPid(file) === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
  process.on('exit', release);
  return release;
}

/**
 * Moves a stale lock aside. rename() is atomic, so of two processes taking over the same stale
 * lock, the second may move the first's fresh lock instead: it sees a live pid in what it moved
 * and puts it back.
 */
function takeOver(file: string, dataDir: string): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
    throw error;
  }
  const pid = holder(aside);
  if (pid !== undefined) {
    try {
      linkSync(aside, file);
    } catch {
      // A third process holds the lock by now: it is in use either way.
    }
    unlinkSync(aside);
    throw inUse(dataDir, pid);
  }
  unlinkSync(aside);
}
