import { spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AtomicWriteError, pendingPath, rewriteFile, STALE_AFTER_MS } from '../../src/config/atomic-file';
import { tempDir } from '../support/env';

// The key file a running service watches is replaced, never rewritten in place (keys rotate).

function keyFile(content = '{"keys":["old"]}', mode = 0o600): { dir: string; file: string } {
  const dir = tempDir();
  const file = path.join(dir, 'signing-keys.json');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return { dir, file };
}

describe('replacing a watched file atomically', () => {
  it('puts the new content in place by rename, with the old mode, leaving nothing beside it', () => {
    for (const mode of [0o600, 0o640]) {
      const { dir, file } = keyFile('{"keys":["old"]}', mode);
      const before = statSync(file);
      rewriteFile(file, (text) => text.replace('old', 'new'));
      const after = statSync(file);
      expect(readFileSync(file, 'utf8')).toBe('{"keys":["new"]}');
      expect(after.mode & 0o7777).toBe(mode);
      // A new inode: the old file was never opened for writing, so no reader saw it change.
      expect(after.ino).not.toBe(before.ino);
      expect(readdirSync(dir)).toEqual(['signing-keys.json']);
    }
  });

  it('writes nothing and leaves nothing behind when the update throws', () => {
    const { dir, file } = keyFile();
    expect(() =>
      rewriteFile(file, () => {
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(readFileSync(file, 'utf8')).toBe('{"keys":["old"]}');
    expect(readdirSync(dir)).toEqual(['signing-keys.json']);
  });

  it('lets one rewrite run at a time: the temp file is the lock', () => {
    const { dir, file } = keyFile();
    let inner: unknown;
    rewriteFile(file, (text) => {
      // A second run while the first holds the file.
      try {
        rewriteFile(file, () => 'second');
      } catch (error) {
        inner = error;
      }
      return text.replace('old', 'first');
    });
    expect(inner).toBeInstanceOf(AtomicWriteError);
    expect((inner as Error).message).toMatch(/\.signing-keys\.json\.pending exists: another rewrite of .* is running; try again in a minute/);
    expect(readFileSync(file, 'utf8')).toBe('{"keys":["first"]}');
    expect(readdirSync(dir)).toEqual(['signing-keys.json']);
  });

  it('stops, touching nothing, while a fresh temp file is there; goes on past one an interrupted run left a minute ago', () => {
    const { dir, file } = keyFile();
    writeFileSync(pendingPath(file), '{"keys":[');
    const madeAt = statSync(pendingPath(file)).mtimeMs;
    expect(() => rewriteFile(file, () => 'new', madeAt + STALE_AFTER_MS)).toThrow(AtomicWriteError);
    expect(readFileSync(file, 'utf8')).toBe('{"keys":["old"]}');
    expect(readFileSync(pendingPath(file), 'utf8')).toBe('{"keys":[');
    // Past the bound it can only be a dead run's: the file it meant to replace is still whole.
    rewriteFile(file, (text) => text.replace('old', 'new'), madeAt + STALE_AFTER_MS + 1);
    expect(readFileSync(file, 'utf8')).toBe('{"keys":["new"]}');
    expect(readdirSync(dir)).toEqual(['signing-keys.json']);
  });

  it('refuses a temp name that is a link or a directory, however old, with a message saying what to do', () => {
    const { dir, file } = keyFile();
    symlinkSync(path.join(dir, 'nowhere'), pendingPath(file));
    expect(() => rewriteFile(file, () => 'new', Date.now() + 10 * STALE_AFTER_MS)).toThrow(/is not a file this command made \(a link or a directory\): remove it/);
    expect(lstatSync(pendingPath(file)).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('{"keys":["old"]}');
  });

  it('replaces the file a symbolic link names, and keeps the link', () => {
    const { dir, file } = keyFile();
    const link = path.join(dir, 'current.json');
    symlinkSync(file, link);
    rewriteFile(link, () => 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('new');
  });

  it('refuses a file that is not there', () => {
    expect(() => rewriteFile(path.join(tempDir(), 'missing.json'), () => 'new')).toThrow(/cannot read .*missing\.json \(ENOENT\)/);
  });

  if (process.getuid?.() === 0) {
    it('keeps the owner when run as root (a cron job), so the service can still read its 0600 file', () => {
      const { file } = keyFile();
      chownSync(file, 4321, 4321);
      rewriteFile(file, () => 'new');
      expect(statSync(file)).toMatchObject({ uid: 4321, gid: 4321 });
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });
  }

  it('never shows a reader half a file, over many rewrites', async () => {
    // Large enough that a write in place would be seen half done: ~400 KB of JSON.
    const body = (round: number): string => JSON.stringify({ round, keys: Array.from({ length: 2000 }, (_, index) => ({ kid: `k${index}`, x: 'A'.repeat(180) })) });
    const { file } = keyFile(body(0));
    // A separate process, as the service is, parsing the file in a tight loop.
    const reader = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs'); let reads = 0, torn = 0;
       const stop = Date.now() + 60000;
       process.stdin.on('data', () => { console.log(JSON.stringify({ reads, torn })); process.exit(0); });
       (function loop() { for (let i = 0; i < 20; i++) { try { JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8')); } catch { torn++; } reads++; } if (Date.now() < stop) setImmediate(loop); })();`,
    ]);
    let out = '';
    reader.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let round = 1; round <= 40; round++) {
      rewriteFile(file, () => body(round));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    reader.stdin.write('stop\n');
    await exited;
    const { reads, torn } = JSON.parse(out) as { reads: number; torn: number };
    expect(reads).toBeGreaterThan(40);
    expect(torn).toBe(0);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { round: number }).round).toBe(40);
  });
});
