// The floors the issue-17 benchmark measures every figure against, in the same run: a bare
// node:http handler and a bare Koa app, each answering GET /healthz with the same small JSON
// body as Portcullis's liveness endpoint and nothing else (no logging, no headers, one process).
import http from 'node:http';
import Koa from 'koa';

const kind = process.env.FLOOR;
const body = JSON.stringify({ status: 'ok' });
let server;
if (kind === 'node-http') {
  server = http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
} else if (kind === 'koa') {
  const app = new Koa();
  app.use((ctx) => {
    if (ctx.path !== '/healthz') return;
    ctx.body = { status: 'ok' };
  });
  server = http.createServer(app.callback());
} else {
  throw new Error(`FLOOR must be node-http or koa (got ${kind})`);
}
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'server.started', port: server.address().port, floor: kind })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
