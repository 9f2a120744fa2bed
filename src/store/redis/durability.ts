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

/** The replies of a pipeline, failing on the first command that failed. */
export async function replies(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (!results) throw new Error('redis pipeline returned no replies');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * Runs the writes `build` queues in one pipeline, followed by WAIT when `durability` asks for
 * replicas (WAIT covers every write the connection sent before it: the pipeline's own, and any
 * the caller awaited first; a single command not yet awaited may still sit in the client's
 * auto-pipeline, connect.ts); returns the writes' replies.
 */
export async function replicated(redis: RedisClient, durability: Durability | undefined, write: string, build: (pipeline: ChainableCommander) => void): Promise<unknown[]> {
  const pipeline = redis.pipeline();
  build(pipeline);
  const waits = durability !== undefined && durability.replicas > 0;
  if (waits) pipeline.wait(durability.replicas, durability.timeoutMs);
  const results = await replies(pipeline);
  if (waits) {
    const acknowledged = Number(results.pop());
    if (acknowledged < durability.replicas) durability.onShortfall(write, acknowledged);
  }
  return results;
}
