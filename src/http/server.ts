import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from '../logging/logger';

export interface ListeningServer {
  readonly server: http.Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (at most timeoutMs), then resolves. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen<S>(app: Koa<S>, port: number, host: string, log: Logger): Promise<ListeningServer> {
  let draining = false;
  const server = http.createServer(app.callback());
  // Responses not yet sent: the ones still being answered when the drain starts must close
  // their connection too, or a keep-alive client holds it open (up to keepAliveTimeout) and
  // the exit waits for it.
  const pending = new Set<http.ServerResponse>();
  const closeAfter = (res: http.ServerResponse): void => {
    if (res.headersSent) {
      // Sent as keep-alive already: end the connection once this response is out.
      res.once('finish', () => res.socket?.end());
      return;
    }
    // A keep-alive client must learn that this instance is going away (RFC 9112 §9.6).
    res.setHeader('Connection', 'close');
  };
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) {
      closeAfter(res);
      return;
    }
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  async function close(timeoutMs: number): Promise<void> {
    draining = true;
    for (const res of pending) closeAfter(res);
    pending.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.warn({ event: 'server.drain_timeout', timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
      server.closeAllConnections();
      await closed;
    }
  }

  return { server, port: bound, close };
}
