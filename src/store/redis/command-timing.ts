import type { Command } from 'ioredis';
import type { CommandObserver } from '../connection';
import type { RedisClient } from './scripts';

type SendCommand = (this: unknown, command: Command, ...rest: unknown[]) => unknown;

/**
 * Times every command the client sends, pipelined and scripted ones included (ioredis sends each
 * through `sendCommand`, a Cluster through its own before it picks the node): two clock reads and
 * one reaction on the command's promise, nothing on the wire (no MONITOR). NOSCRIPT is not an
 * error here: it is how ioredis learns to load a script, then it sends EVAL by itself.
 * Returns the function that stops timing.
 */
export function timeCommands(client: RedisClient, observer: CommandObserver): () => void {
  const target = client as unknown as { sendCommand: SendCommand };
  const original = target.sendCommand;
  const timed: SendCommand = function (this: unknown, command, ...rest) {
    const startedAt = performance.now();
    const result = original.call(this, command, ...rest);
    const done = (failed: boolean) => observer(command.name, (performance.now() - startedAt) / 1000, failed);
    command.promise.then(
      () => done(false),
      (error: unknown) => done(!(error instanceof Error && error.message.startsWith('NOSCRIPT'))),
    );
    return result;
  };
  target.sendCommand = timed;
  return () => {
    if (target.sendCommand === timed) target.sendCommand = original;
  };
}
