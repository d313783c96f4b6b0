import type { z } from 'zod';
import { translator } from '../i18n';
import { fieldErrorsFrom, type FieldErrors } from '../http/field-errors';
import { CliError } from './run-command';
import { EXIT } from './exit-codes';

const t = translator('en');

/** Field errors as one CLI line per flag (`--email: Enter a valid e-mail address.`), exit 2 (invalid). */
export function cliInvalid(errors: FieldErrors, flags: Record<string, string> = {}): CliError {
  const lines = Object.entries(errors).map(([field, messages]) => `${flags[field] ?? `--${field.replace(/_/g, '-')}`}: ${messages.map((m) => t(m.key, m.vars)).join(' ')}`);
  return new CliError(lines.join('; '), EXIT.invalid);
}

/**
 * A command's options through the same zod schema as the web form: the same
 * rules and messages, printed per flag; exit 2 (invalid) and nothing changed.
 */
export function parseCliInput<S extends z.ZodType>(schema: S, values: unknown, flags: Record<string, string> = {}, fallbackKey?: string): z.output<S> {
  const r = schema.safeParse(values);
  if (!r.success) throw cliInvalid(fieldErrorsFrom(r.error, fallbackKey), flags);
  return r.data;
}
