import http from 'node:http';
import { createApp } from '../../src/http/app';
import { listen, type ListeningServer } from '../../src/http/server';
import { createTestDeps, type TestDeps } from '../support/deps';

function get(port: number, path: string): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
  });
}

describe('graceful shutdown', () => {
  let deps: TestDeps;
  let server: ListeningServer;

  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(async () => deps.cleanup());

  // Resolves when the slow handler has the request: closing before that would test the
  // listen backlog, not the drain.
  let arrived: Promise<void>;

  beforeEach(async () => {
    const app = createApp(deps);
    let markArrived: () => void = () => undefined;
    arrived = new Promise((resolve) => {
      markArrived = resolve;
    });
    app.use(async (ctx) => {
      markArrived();
      const ms = Number(new URLSearchParams(ctx.querystring).get('ms'));
      await new Promise((resolve) => setTimeout(resolve, ms).unref());
      ctx.body = { slept: ms };
    });
    server = await listen(app, 0, '127.0.0.1', deps.log);
  });

  it('finishes an in-flight request, then stops accepting', async () => {
    const inFlight = get(server.port, '/slow?ms=700');
    await arrived;
    const closing = server.close(5000);

    await expect(get(server.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ slept: 700 });
    expect(res.connection).toBe('close');
    await closing;
  });

  it('cuts requests that outlive the drain timeout', async () => {
    const inFlight = get(server.port, '/slow?ms=10000').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await arrived;
    const started = Date.now();
    await server.close(300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await inFlight).toBe('ECONNRESET');
    expect(deps.logs.events('server.drain_timeout')).toHaveLength(1);
  });
});
