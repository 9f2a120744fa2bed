import { z } from 'zod';

// One schema per request body of the self-service API. `.strict()`: a field that is not listed
// (username, roles, scopes, disabled...) is refused with 400, never silently dropped or applied.

/** Profile fields, shared with the admin API's schemas. */
export const email = z.email({ message: 'must be an e-mail address' }).max(254);
export const fullName = z.string().trim().min(1, 'must not be empty').max(200);

export const updateMeBody = z
  .object({ email: email.nullable().optional(), fullName: fullName.nullable().optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });

export const changePasswordBody = z
  .object({
    currentPassword: z.string().min(1, 'required'),
    newPassword: z.string().min(1, 'required'),
    /** Keep the session the request comes from signed in; every other one ends. */
    keepSession: z.boolean().optional(),
  })
  .strict();
