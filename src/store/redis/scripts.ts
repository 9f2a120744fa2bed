import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

/**
 * Defines the Lua script `<file>.lua`, which sits beside this module (scripts/copy-assets.js
 * copies it into dist/), as the client command `name` (ioredis sends EVALSHA, loading it once).
 */
export function defineScript(redis: Pick<Redis, 'defineCommand'>, name: string, file: string, numberOfKeys: number): void {
  redis.defineCommand(name, { numberOfKeys, lua: readFileSync(path.join(__dirname, `${file}.lua`), 'utf8') });
}
