import type { z } from 'zod';
import { HttpError } from './errors';
import { isMessageKey } from '../i18n';

export type Vars = Record<string, string | number>;

/** One message beside a field: a locale key and its variables, translated when the page or JSON is rendered. */
export interface FieldMessage {
  key: string;
  vars?: Vars;
}

/**
 * The one field-error shape: field name -> its messages, in order. Forms render
 * it with `views/partials/field-errors.ejs`; JSON answers carry it translated
 * under `error.fields`; the CLI prints it per flag.
 */
export type FieldErrors = Record<string, FieldMessage[]>;

/** Adds a message to a field (mutates and returns `errors`, so checks can be chained). */
export function addFieldError(errors: FieldErrors, field: string, key: string, vars?: Vars): FieldErrors {
  (errors[field] ??= []).push(vars ? { key, vars } : { key });
  return errors;
}

export function fieldError(field: string, key: string, vars?: Vars): FieldErrors {
  return addFieldError({}, field, key, vars);
}

export function hasFieldErrors(errors: FieldErrors | undefined): boolean {
  return !!errors && Object.values(errors).some((m) => m.length > 0);
}

/** Later lists add to earlier ones field by field; nothing is lost. */
export function mergeFieldErrors(...lists: FieldErrors[]): FieldErrors {
  const out: FieldErrors = {};
  for (const list of lists) for (const [field, messages] of Object.entries(list)) for (const m of messages) addFieldError(out, field, m.key, m.vars);
  return out;
}

/** Renames fields, e.g. `body_ja` -> `update_body_ja` when two forms share a page. */
export function prefixFieldErrors(errors: FieldErrors, prefix: string): FieldErrors {
  return Object.fromEntries(Object.entries(errors).map(([field, m]) => [`${prefix}${field}`, m]));
}

/** Sizes zod knows, for generic messages such as "at most {max} characters". */
function issueVars(issue: z.core.$ZodIssue): Vars | undefined {
  if (issue.code === 'too_big') return { max: Number(issue.maximum), n: Number(issue.maximum) };
  if (issue.code === 'too_small') return { min: Number(issue.minimum), n: Number(issue.minimum) };
  // A schema's own check names its variables: ctx.addIssue({ code: 'custom', message: key, params: { address } }).
  if (issue.code === 'custom' && issue.params) return issue.params as Vars;
  return undefined;
}

/**
 * A zod error as field errors: each field's first problem. Schemas give locale
 * keys as messages ('bootstrap.errors.email_invalid'); zod's own English
 * defaults are replaced by `fallbackKey`, so no English leaks into a Japanese page.
 * A problem inside a field (an item of a list) belongs to the field, as a form shows it; a whole-object problem is '_form'.
 */
export function fieldErrorsFrom(error: z.ZodError, fallbackKey = 'errors.invalid_field'): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path.length ? String(issue.path[0]) : '_form';
    if (out[field]) continue;
    addFieldError(out, field, isMessageKey(issue.message) ? issue.message : fallbackKey, issueVars(issue));
  }
  return out;
}

/** Invalid input (body or query): 422 with the messages per field, as a page or as JSON (`error.fields`). */
export class InvalidInput extends HttpError {
  constructor(
    public readonly fields: FieldErrors,
    key = 'errors.invalid',
    vars?: Vars,
  ) {
    super(422, key, vars);
  }
}
