import { z } from 'zod';

/** Messages are locale keys, so the form explains each problem in its own language. */
export const emailField = z
  .string('bootstrap.errors.email_invalid')
  .trim()
  .min(1, 'bootstrap.errors.email_required')
  .max(254, 'bootstrap.errors.email_invalid')
  .pipe(z.email('bootstrap.errors.email_invalid'));

/** TOYBOX's login id: lower-case letters, digits and underscore, 3 to 30 characters. */
export const displayIdField = z
  .string('bootstrap.errors.display_id_invalid')
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_]{3,30}$/, 'bootstrap.errors.display_id_invalid');

export const passwordField = z
  .string('bootstrap.errors.password_required')
  .min(1, 'bootstrap.errors.password_required')
  .max(4096, 'bootstrap.errors.password_too_long');

export const setupSchema = z.object({
  token: z.string('bootstrap.errors.token_required').trim().min(1, 'bootstrap.errors.token_required').max(200, 'bootstrap.token.wrong'),
  email: emailField,
  display_id: displayIdField,
  password: passwordField,
  password_confirm: z.string('bootstrap.errors.password_mismatch'),
  /** ADMIN opens Django admin and TOYBOX's console; SUPERUSER is what createsuperuser makes (no console). */
  role: z.enum(['ADMIN', 'SUPERUSER'], 'bootstrap.errors.role_invalid').default('ADMIN'),
});

export type SetupInput = z.infer<typeof setupSchema>;

/**
 * The CLI's `admin create` / `admin promote` options, checked by the web form's own fields (one set of rules and
 * messages); `--role` is typed in any case (admin, superuser).
 */
export const cliAccountSchema = z.object({
  email: setupSchema.shape.email,
  display_id: setupSchema.shape.display_id,
  password: setupSchema.shape.password,
  role: z.preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), setupSchema.shape.role),
});

/** Which flag each field came from, for the CLI's messages. */
export const CLI_FLAGS: Record<string, string> = { email: '--email', display_id: '--display-id', role: '--role', password: 'password' };
