import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/env';
import { runCli, startServiceProcess } from '../support/process';

jest.setTimeout(120_000);

// The embedded database serves one process: the CLI on the DATA_DIR of a running `npm start`
// printed success and its write was lost. Now whichever comes second is refused, naming the first.
describe('one process per PGlite DATA_DIR', () => {
  const quick = { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' };

  it('the CLI and a second service are refused while the service runs; the CLI works once it stops', async () => {
    const env = { ...quick, DATA_DIR: tempDir() };
    const service = await startServiceProcess(env);
    const pid = service.child.pid!;
    try {
      const text = await runCli(['user', 'create', '--username', 'lost', '--password', 'lost-password'], env);
      expect(text.code).toBe(1);
      expect(text.stderr.trim()).toBe(`portcullis: DATA_DIR ${env.DATA_DIR} is in use by pid ${pid}: the embedded database (PGlite) serves one process at a time; stop that process (npm start) first, or use PostgreSQL (DATABASE_URL)`);
      expect(text.stdout).toBe('');

      const json = await runCli(['user', 'list', '--json'], env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stderr)).toMatchObject({ error: 'data_dir_in_use', error_description: expect.stringContaining(`in use by pid ${pid}`) });

      const second = await startServiceProcess(env).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(second).toMatch(/exited with 1 before listening/);
      expect(second).toMatch(new RegExp(`"level":"fatal".*"event":"database.in_use".*"pid":${pid}`));
    } finally {
      service.child.kill('SIGTERM');
      expect((await service.exited()).code).toBe(0);
    }
    expect(existsSync(path.join(env.DATA_DIR, 'pgdata.lock'))).toBe(false);
    const created = await runCli(['user', 'create', '--username', 'kept', '--password', 'kept-password'], env);
    expect(created.code).toBe(0);
    expect((await runCli(['user', 'list'], env)).stdout).toMatch(/^kept\t/m);
  });

  it('a lock left by a killed process is taken over', async () => {
    const env = { ...quick, DATA_DIR: tempDir() };
    const service = await startServiceProcess(env);
    service.child.kill('SIGKILL');
    await service.exited();
    expect(existsSync(path.join(env.DATA_DIR, 'pgdata.lock'))).toBe(true);
    const listed = await runCli(['user', 'list'], env);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    // And one whose pid is long gone, written by hand.
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
    writeFileSync(path.join(env.DATA_DIR, 'pgdata.lock'), `${gone}\n`);
    expect((await runCli(['role', 'list'], env)).code).toBe(0);
  });
});
