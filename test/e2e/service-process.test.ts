import http from 'node:http';
import { postgresUrl, redisUrl, tempDir } from '../support/env';
import { runCli, startServiceProcess } from '../support/process';

describe('portcullis serve, as a process', () => {
  it('runs on the embedded defaults, drains an in-flight request on SIGTERM and exits 0', async () => {
    const service = await startServiceProcess({ DATA_DIR: tempDir() });
    expect(service.stdout()).toContain('"event":"database.embedded"');
    expect(service.stdout()).toContain('"event":"store.embedded"');

    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);

    // An in-flight request: headers sent, body still arriving when the signal lands.
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: service.port, path: '/healthz', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '11' } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"a":');
      setTimeout(() => {
        service.child.kill('SIGTERM');
        setTimeout(() => req.end('"xyz"}'), 400);
      }, 200);
    });

    const answered = await response;
    expect(answered.status).toBe(405);
    expect(JSON.parse(answered.body).error).toBe('method_not_allowed');
    await expect(service.exited()).resolves.toEqual({ code: 0, signal: null });
    expect(service.stdout()).toContain('"event":"server.stopped"');
  });

  if (redisUrl() && postgresUrl()) {
    it('runs on real Redis and PostgreSQL', async () => {
      const service = await startServiceProcess({ DATA_DIR: tempDir(), REDIS_URL: redisUrl()!, DATABASE_URL: postgresUrl()!, REDIS_KEY_PREFIX: 'e2e:' });
      const ready = (await (await fetch(`${service.url}/readyz`)).json()) as { checks: unknown };
      expect(ready.checks).toEqual({ database: { status: 'up', backend: 'postgres' }, store: { status: 'up', backend: 'redis' } });
      service.child.kill('SIGINT');
      await expect(service.exited()).resolves.toEqual({ code: 0, signal: null });
    });
  }

  it('refuses to start on an invalid configuration, listing every problem', async () => {
    const result = await runCli(['serve'], { PORT: 'abc', LOG_LEVEL: 'chatty', SHUTDOWN_TIMEOUT: 'soon' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration:');
    expect(result.stderr).toMatch(/PORT: .*\n.*LOG_LEVEL: .*\n.*SHUTDOWN_TIMEOUT: /);
  });

  it('refuses to start in production without real backends and keys', async () => {
    const result = await runCli(['serve'], { NODE_ENV: 'production', DATA_DIR: tempDir() });
    expect(result.code).toBe(1);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SIGNING_KEYS or SIGNING_KEYS_FILE']) {
      expect(result.stderr).toContain(`${name}: required when NODE_ENV=production`);
    }
  });
});
