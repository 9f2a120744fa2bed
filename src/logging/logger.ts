import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/schema';

export type { Logger } from 'pino';

/** Field names whose values are secrets wherever they appear in a log object. */
export const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'new_password',
  'current_password',
  'client_secret',
  'token',
  'refresh_token',
  'access_token',
  'id_token',
  'secret',
] as const;

const REDACT_DEPTH = 4;

// pino's redaction works on explicit paths ("*" is one level), so secrets are redacted by
// configuration at every depth up to REDACT_DEPTH rather than by remembering at each call site.
function redactPaths(): string[] {
  const paths: string[] = [];
  for (const field of SECRET_FIELDS) {
    const key = `["${field}"]`;
    for (let depth = 0; depth <= REDACT_DEPTH; depth += 1) paths.push(`${'*.'.repeat(depth)}${key}`.replace(/\.\[/g, '['));
  }
  return paths;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: { paths: redactPaths(), censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const SECRET_QUERY = new Set<string>(SECRET_FIELDS);

/** A URL fit for a log line: query parameters that carry secrets are replaced. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  let changed = false;
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY.has(key.toLowerCase())) {
      params.set(key, '[redacted]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, queryStart)}?${params.toString()}` : url;
}
