import http from 'node:http';
import { tempDir } from '../support/env';
import { startServiceProcess } from '../support/process';

// Issue 16, "Drain": on SIGTERM, answers still being written tell a keep-alive client to go
// (Connection: close), so the process does not wait for the client's idle connection (Node's
// keepAliveTimeout, 5 s) before it can exit; and readiness turns 503 as the drain starts.

describe('SIGTERM with a keep-alive client', () => {
  it('answers the in-flight request with Connection: close and exits without waiting for the idle connection', async () => {
    const service = await startServiceProcess({ DATA_DIR: tempDir() });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Warm the connection: the next request reuses it.
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: service.port, path: '/healthz', agent }, (res) => {
          expect(res.headers.connection).toBe('keep-alive');
          res.resume().on('end', resolve);
        }).on('error', reject);
      });

      let signalledAt = 0;
      const answered = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        // In flight: headers sent, body still arriving when the signal lands.
        const req = http.request({ host: '127.0.0.1', port: service.port, path: '/healthz', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': '11' } }, (res) => {
          res.resume().on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.write('{"a":');
        setTimeout(() => {
          signalledAt = Date.now();
          service.child.kill('SIGTERM');
          setTimeout(() => req.end('"xyz"}'), 300);
        }, 200);
      });

      const res = await answered;
      expect(res.status).toBe(405);
      expect(res.connection).toBe('close');
      await expect(service.exited()).resolves.toEqual({ code: 0, signal: null });
      const exitMs = Date.now() - signalledAt;
      // The request itself holds the drain 300 ms; an idle keep-alive connection would hold it 5 s.
      expect(exitMs).toBeLessThan(3000);
      process.stdout.write(`drain: exit ${exitMs} ms after SIGTERM\n`);
    } finally {
      agent.destroy();
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    }
  });
});
