import { z } from 'zod';
import { fieldErrorsFrom, hasFieldErrors, type FieldErrors } from '../../http/field-errors';
import { COMPONENTS, KINDS, SEVERITIES, statesFor, type Component, type NoticeState, type NoticeFields } from './model';
import { parseTokyoTime } from '../../i18n/tokyo-time';

/** Validated notice fields, as the service takes them. */
export type NoticeInput = NoticeFields;

export type { FieldErrors };

const text = (max: number) => z.string().trim().max(max, 'notice.errors.too_long');
const time = z
  .string()
  .optional()
  .transform((v, c) => {
    if (!v || !v.trim()) return null;
    const d = parseTokyoTime(v);
    if (!d) c.addIssue({ code: 'custom', message: 'notice.errors.bad_time' });
    return d;
  });

const noticeShape = z
  .object({
    kind: z.enum(KINDS, { message: 'notice.errors.bad_kind' }).default('incident'),
    severity: z.enum(SEVERITIES, { message: 'notice.errors.bad_severity' }),
    state: z.string().optional(),
    title_ja: text(200).min(1, 'notice.errors.title_required'),
    title_en: text(200).default(''),
    body_ja: text(10000).min(1, 'notice.errors.body_required'),
    body_en: text(10000).default(''),
    starts_at: time,
    ends_at: time,
    mirror: z.union([z.boolean(), z.string()]).optional().transform((v) => v === true || v === 'on' || v === 'true' || v === '1'),
    // checkboxes: absent, one value, or several
    components: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])])
      .refine((v) => v.every((c) => (COMPONENTS as readonly string[]).includes(c)), 'notice.errors.bad_component')
      .transform((v) => v as Component[]),
  })
  .transform((v) => ({ ...v, state: (v.state && v.state.trim()) || statesFor(v.kind)[0]! }));

/** Checks across fields, on the raw values, so they show even when another field is wrong. */
function crossChecks(raw: Record<string, unknown>): FieldErrors {
  const errors: FieldErrors = {};
  // One message per field; a later check replaces an earlier one (ends before starts says more than "required").
  const set = (field: string, key: string) => (errors[field] = [{ key }]);
  const kind = raw.kind === 'maintenance' ? 'maintenance' : 'incident';
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).trim() : '');
  const state = str('state');
  if (state && !(statesFor(kind) as readonly string[]).includes(state)) set('state', 'notice.errors.bad_state');
  const starts = str('starts_at') ? parseTokyoTime(str('starts_at')) : null;
  const ends = str('ends_at') ? parseTokyoTime(str('ends_at')) : null;
  if (kind === 'maintenance' && !str('starts_at')) set('starts_at', 'notice.errors.starts_required');
  if (kind === 'maintenance' && !str('ends_at')) set('ends_at', 'notice.errors.ends_required');
  if (starts && ends && ends <= starts) set('ends_at', 'notice.errors.ends_before_starts');
  return errors;
}

const updateShape = z.object({
  state: z.string().trim().optional(),
  body_ja: text(10000).min(1, 'notice.errors.body_required'),
  body_en: text(10000).default(''),
});

export type UpdateInput = { state?: string; body_ja: string; body_en: string };

function fieldErrors(error: z.ZodError): FieldErrors {
  return fieldErrorsFrom(error, 'notice.errors.invalid_field');
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

export function parseNoticeInput(raw: unknown): Parsed<NoticeInput> {
  const r = noticeShape.safeParse(raw);
  const errors = { ...crossChecks((raw ?? {}) as Record<string, unknown>), ...(r.success ? {} : fieldErrors(r.error)) };
  if (!r.success || hasFieldErrors(errors)) return { ok: false, errors };
  return { ok: true, value: { ...r.data, state: r.data.state as NoticeState } };
}

export function parseUpdateInput(raw: unknown): Parsed<UpdateInput> {
  const r = updateShape.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: fieldErrors(r.error) };
}

export { idParam } from '../../http/params';
