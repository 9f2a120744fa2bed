import type { Command } from 'ioredis';
import { EventHub } from '../src/events/hub';
import { httpMetrics } from '../src/metrics/http-metrics';
import { subscribeEventMetrics } from '../src/metrics/event-metrics';
import { createMetrics } from '../src/metrics/registry';
import { timeCommands } from '../src/store/redis/command-timing';
import type { RedisClient } from '../src/store/redis/scripts';

/**
 * What the metrics add to one introspection, in this process and without the network: the
 * request middleware, the `introspection.answered` counter and the timing of its one Redis
 * command, against the same steps with no metrics. A floor under the end-to-end comparison,
 * which a busy machine makes noisy: it says how much of a request's CPU the metrics can take.
 */
export async function metricsPathCost(iterations = 300_000): Promise<{ nsPerRequest: number }> {
  const metrics = createMetrics();
  const middleware = httpMetrics(metrics);
  const events = new EventHub();
  subscribeEventMetrics(events, metrics);
  const command = (): Command => ({ name: 'evalsha', promise: Promise.resolve('ok') }) as unknown as Command;
  const client = { sendCommand: (sent: Command) => sent.promise };
  const plain = { sendCommand: (sent: Command) => sent.promise };
  timeCommands(client as unknown as RedisClient, (name, seconds, failed) => {
    metrics.redisDuration.labels(name).observe(seconds);
    if (failed) metrics.redisErrors.labels(name).inc();
  });
  const ctx = { method: 'POST', status: 200, matched: [{ path: '/oauth/introspect', methods: ['POST'] }] };
  const request = async (measured: boolean): Promise<void> => {
    const redis = measured ? client : plain;
    const handler = async () => {
      await redis.sendCommand(command());
      if (measured) events.emit('introspection.answered', { active: true, clientId: 'bench-rs' });
    };
    if (measured) await middleware(ctx as never, handler);
    else await handler();
  };
  const time = async (measured: boolean): Promise<number> => {
    const startedAt = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) await request(measured);
    return Number(process.hrtime.bigint() - startedAt) / iterations;
  };
  // Warm both paths up, then take the best of three (the least disturbed by other processes).
  await time(true);
  await time(false);
  const samples: number[] = [];
  for (let round = 0; round < 3; round += 1) samples.push((await time(true)) - (await time(false)));
  return { nsPerRequest: Math.round(Math.min(...samples)) };
}
