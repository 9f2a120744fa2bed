import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createDatabase } from '../../src/db/database';
import { lockDataDir } from '../../src/db/data-dir-lock';
import { tempDir } from '../support/env';

/** The pid of a process that has exited (its number is free, or at least not this test's). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the PGlite data directory lock', () => {
  it('is taken with this pid and host, refused while held, and removed on release', () => {
    const dir = tempDir();
    const file = path.join(dir, 'pgdata.lock');
    const release = lockDataDir(file, dir);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
    expect(() => lockDataDir(file, dir)).toThrow(`DATA_DIR ${dir} is in use by pid ${process.pid} (this process)`);
    release();
    expect(existsSync(file)).toBe(false);
    lockDataDir(file, dir)();
  });

  it("takes over the lock of a process that has died, and one left with this pid by an earlier life (a container's pid 1)", () => {
    const dir = tempDir();
    const file = path.join(dir, 'pgdata.lock');
    // With this host named, and without (a lock written before locks named their host).
    for (const stale of [deadPid(), process.pid]) {
      for (const text of [`${stale}\n${hostname()}\n`, `${stale}\n`]) {
        writeFileSync(file, text);
        const release = lockDataDir(file, dir);
        expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
        release();
      }
    }
  });

  it("is refused when another host (another container on a shared volume) holds it, even with this process's pid, naming pid and host", () => {
    const dir = tempDir();
    const file = path.join(dir, 'pgdata.lock');
    // The service in the other container is pid 1 too, or a pid that is dead here: neither is judged.
    for (const pid of [process.pid, deadPid(), 1]) {
      writeFileSync(file, `${pid}\nservice-7f9c\n`);
      let error: unknown;
      try {
        lockDataDir(file, dir);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ event: 'database.in_use', details: { dataDir: dir, pid, host: 'service-7f9c' }, message: expect.stringContaining(`DATA_DIR ${dir} is in use by pid ${pid} on host service-7f9c:`) });
      expect((error as Error).message).toContain(`if that host's process is gone, remove ${file}`);
      expect(readFileSync(file, 'utf8')).toBe(`${pid}\nservice-7f9c\n`);
    }
  });

  it('is refused while a live process holds it, naming its pid', () => {
    const dir = tempDir();
    const file = path.join(dir, 'pgdata.lock');
    writeFileSync(file, `${process.ppid}\n`); // the parent: alive while this test runs
    expect(() => lockDataDir(file, dir)).toThrow(`DATA_DIR ${dir} is in use by pid ${process.ppid}`);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.ppid));
    writeFileSync(file, `${process.ppid}\n${hostname()}\n`);
    expect(() => lockDataDir(file, dir)).toThrow(`DATA_DIR ${dir} is in use by pid ${process.ppid}:`);
  });

  it('is held by an open embedded database until it is closed', async () => {
    const dir = tempDir();
    const pgdata = path.join(dir, 'pgdata');
    const db = createDatabase({ kind: 'pglite', dir: pgdata });
    await db.raw('select 1');
    expect(() => createDatabase({ kind: 'pglite', dir: pgdata })).toThrow(/is in use by pid/);
    await db.destroy();
    const again = createDatabase({ kind: 'pglite', dir: pgdata });
    await again.raw('select 1');
    await again.destroy();
    expect(existsSync(`${pgdata}.lock`)).toBe(false);
  });
});
