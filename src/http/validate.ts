import type { z } from 'zod';
import { ApiError } from './api-error';
import type { AppContext } from './context';

/** Field-level messages from a failed parse: `{ "email": "...", "roles.1": "..." }`. */
function details(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[[...issue.path, key].join('.')] = 'unknown or read-only field';
      continue;
    }
    const field = issue.path.length > 0 ? issue.path.join('.') : '(body)';
    fields[field] ??= issue.message;
  }
  return fields;
}

/** The JSON body, validated by its one schema; 415 when not JSON, 400 with field messages. */
export function jsonBody<S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> {
  if (!ctx.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'the body must be application/json');
  const result = schema.safeParse((ctx.request as { body?: unknown }).body);
  if (!result.success) throw new ApiError(400, 'invalid_request', 'the request body is not valid', details(result.error));
  return result.data;
}

/** The query string, validated by its schema; 400 with field messages. */
export function queryParams<S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> {
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw new ApiError(400, 'invalid_request', 'the query is not valid', details(result.error));
  return result.data;
}
