import { z } from 'zod';

/** An error from a non-OAuth endpoint (health, account, admin): a status, a stable machine
 *  code, a human message and optional field-level details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Every non-OAuth error body (account, admin, health): its own codes, and field messages. */
export const apiErrorSchema = z
  .object({
    error: z.string(),
    error_description: z.string(),
    details: z.record(z.string(), z.string()).optional().describe('field-level messages: {"email": "must be an e-mail address"}'),
    request_id: z.string().optional().describe('on a 500: the id of the log line'),
  })
  .meta({ id: 'Error', description: 'An error of the account, admin and health APIs' });
