import net from 'node:net';

export interface MonitoredCommand {
  /** The client that sent it, as Redis names it ("host:port"), or "lua" for a script's calls. */
  readonly source: string;
  /** The command name, lower-case. */
  readonly command: string;
}

/**
 * Redis MONITOR on a plain socket. (ioredis's monitor mode can lose track of its command queue
 * when the feed is busy, as it is while other suites share the server.) Each feed line is
 * `+<time> [<db> <source>] "<command>" ...`.
 */
export async function monitorRedis(url: string): Promise<{ commands: MonitoredCommand[]; stop(): void }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port || 6379) });
  const commands: MonitoredCommand[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line === '+OK') resolve();
        const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
        if (match) commands.push({ source: match[1]!, command: match[2]!.toLowerCase() });
      }
    });
    socket.write('MONITOR\r\n');
  });
  return { commands, stop: () => socket.destroy() };
}
