import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DatabaseUnavailable } from './startup-errors';

// PGlite is one process's database: a second process opening the same directory gets its own
// copy in memory, and what it writes is lost (the CLI printed success while `npm start` ran on
// the same DATA_DIR). So whichever process opens the embedded database holds a lock file with
// its pid; a second one is refused, naming the holder. A lock whose process has died (SIGKILL,
// a crash) is taken over.
//
// The lock also names the host: a DATA_DIR on a volume shared by two containers (the service and
// a CLI run beside it) sees pids of another pid namespace, and both are often pid 1, so a CLI
// took the service's live lock for its own stale one. A pid is only judged on the host that
// wrote it; a lock from another host is refused, naming both.

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

interface Holder {
  pid: number;
  /** Absent in a lock written before locks named their host: taken as this host. */
  host?: string;
}

/** The lock's content: the pid, then the host name, a line each. */
function lockText(): string {
  return `${process.pid}\n${hostname()}\n`;
}

function readLock(file: string): Holder | undefined {
  try {
    const [first = '', second = ''] = readFileSync(file, 'utf8').split('\n');
    const pid = Number(first.trim());
    const host = second.trim();
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, ...(host === '' ? {} : { host }) } : undefined;
  } catch {
    return undefined;
  }
}

const sameHost = (lock: Holder): boolean => lock.host === undefined || lock.host === hostname();

/** Who holds the lock, when it is live; undefined when it is stale. A lock from another host is
 *  live: its pid means nothing here. Our own pid counts as stale unless this process holds the
 *  lock: a container restarted with the same pid (1) left it behind. */
function holder(file: string): Holder | undefined {
  const lock = readLock(file);
  if (lock === undefined) return undefined;
  if (!sameHost(lock)) return lock;
  if (lock.pid === process.pid) return held.has(file) ? lock : undefined;
  return alive(lock.pid) ? lock : undefined;
}

function inUse(file: string, dataDir: string, lock: Holder | undefined): DatabaseUnavailable {
  const pid = lock?.pid ?? 0;
  const local = lock === undefined || sameHost(lock);
  const where = local ? (pid === process.pid ? ' (this process)' : '') : ` on host ${lock.host}`;
  // Whether a process on another host is alive cannot be seen from here: if it is gone, the
  // operator says so by removing the lock.
  const gone = local ? '' : ` (if that host's process is gone, remove ${file})`;
  return new DatabaseUnavailable(
    'database.in_use',
    `DATA_DIR ${dataDir} is in use by pid ${pid}${where}: the embedded database (PGlite) serves one process at a time; stop that process (npm start) first${gone}, or use PostgreSQL (DATABASE_URL)`,
    { dataDir, pid, ...(lock?.host === undefined ? {} : { host: lock.host }) },
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
  writeFileSync(mine, lockText(), { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const lock = holder(file);
      if (lock !== undefined || attempt >= 5) throw inUse(file, dataDir, lock ?? readLock(file));
      takeOver(file, dataDir);
    }
  } finally {
    unlinkSync(mine);
  }
  held.add(file);
  const release = (): void => {
    if (!held.delete(file)) return;
    process.off('exit', release);
    const lock = readLock(file);
    if (lock !== undefined && lock.pid === process.pid && sameHost(lock)) {
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
  const lock = holder(aside);
  if (lock !== undefined) {
    try {
      linkSync(aside, file);
    } catch {
      // A third process holds the lock by now: it is in use either way.
    }
    unlinkSync(aside);
    throw inUse(file, dataDir, lock);
  }
  unlinkSync(aside);
}
