import { randomFillSync } from 'node:crypto';

// Cryptographically random bytes from a pool refilled 4 KiB at a time (as node:crypto's own
// randomUUID does). Asking the OS for a few bytes per token is a system call each time; on the
// issuance and rotation paths that showed up in the profile (~25 µs per call on the benchmark
// machine). Every byte is handed out once, copied out of the pool.
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function randomBytesPooled(size: number): Buffer {
  if (size > pool.length) throw new RangeError('too many random bytes for the pool');
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
