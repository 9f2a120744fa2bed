import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './scripts';

/**
 * Redis replicates asynchronously: a write the master acknowledged can be lost when a replica
 * that had not received it is promoted. With `replicas` > 0, each write of token state (a
 * rotation, a login, a revocation) is followed by `WAIT replicas timeoutMs` in the same round
 * trip, so the answer leaves only once that many replicas hold the write, or the timeout passed.
 * WAIT does not roll back: past the timeout the write stands on the master and `onShortfall`
 * reports it (the service logs `redis.unreplicated`), and the answer is the write's own.
 */
export interface Durability {
  readonly replicas: number;
  readonly timeoutMs: number;
  readonly onShortfall: (write: string, acknowledged: number) => void;
}

/** Runs the one write that `build` queues, then WAIT, in one pipeline; returns the write's reply. */
export async function replicated(redis: RedisClient, durability: Durability, write: string, build: (pipeline: ChainableCommander) => void): Promise<unknown> {
  const pipeline = redis.pipeline();
  build(pipeline);
  pipeline.wait(durability.replicas, durability.timeoutMs);
  const results = await pipeline.exec();
  if (!results || results.length !== 2) throw new Error('redis pipeline returned no replies');
  const [[writeError, reply], [waitError, acknowledged]] = results as [[Error | null, unknown], [Error | null, unknown]];
  if (writeError) throw writeError;
  if (waitError) throw waitError;
  if (Number(acknowledged) < durability.replicas) durability.onShortfall(write, Number(acknowledged));
  return reply;
}
