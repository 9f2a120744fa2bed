import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

// Files named by configuration (secret files, CLIENTS_FILE) are read through here: a regular
// file, at most a given size, opened so that nothing named by mistake can stall the process.

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a path through something that is not a directory',
  ELOOP: 'too many symbolic links',
};

/** What is wrong with a file, as a phrase after its path; the errno code and a plain reason only (never what was read). */
function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  return `cannot be read (${REASONS[code] ?? code})`;
}

/** `at most N KiB` / `MiB`, for messages. */
function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/**
 * The UTF-8 text of a regular file of at most `maxBytes`, or the problem. Opened non-blocking:
 * opening a FIFO for reading would otherwise wait for a writer, freezing the event loop (and
 * SIGTERM with it); the regular-file check then refuses it. Synchronous because these files are
 * small and read at start, on reload, or by the CLI.
 */
export function readBoundedFile(file: string, maxBytes: number, tooLarge = 'is too large'): { text: string } | { problem: string } {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: 'is not a regular file' };
    if (stat.size > maxBytes) return { problem: `is larger than ${size(maxBytes)}: ${tooLarge}` };
    // One byte more than allowed, so a file that grew since fstat is noticed, not cut short.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, length);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) return { problem: `is larger than ${size(maxBytes)}: ${tooLarge}` };
    return { text: buffer.subarray(0, length).toString('utf8') };
  } catch (error) {
    return { problem: fileProblem(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
