import type { z } from 'zod';
import { MALFORMED_TEXT, malformedTextFields } from '../text-input';
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

/**
 * Refuses NUL and lone surrogates in every string (and key) of the input before any schema
 * sees it, so no schema can forget to: PostgreSQL would answer such a string with a 500.
 */
function refuseMalformedText(input: unknown, root: string, message: string): void {
  const fields = malformedTextFields(input, root);
  if (fields.length > 0) throw new ApiError(400, 'invalid_request', message, Object.fromEntries(fields.map((field) => [field, MALFORMED_TEXT])));
}

/** The JSON body, validated by its one schema; 415 when not JSON, 400 with field messages. */
export function jsonBody<S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> {
  if (!ctx.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'the body must be application/json');
  const body = (ctx.request as { body?: unknown }).body;
  refuseMalformedText(body, '(body)', 'the request body is not valid');
  const result = schema.safeParse(body);
  if (!result.success) throw new ApiError(400, 'invalid_request', 'the request body is not valid', details(result.error));
  return result.data;
}

/** The query string, validated by its schema; 400 with field messages. */
export function queryParams<S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> {
  refuseMalformedText(ctx.query, '(query)', 'the query is not valid');
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw new ApiError(400, 'invalid_request', 'the query is not valid', details(result.error));
  return result.data;
}
