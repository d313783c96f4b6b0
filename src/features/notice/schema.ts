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

/**
 * The notice form, as one schema for validate() and the CLI: the field rules,
 * plus the checks across fields, which run on the raw values so they show even
 * when another field is wrong (a field's own message wins over a cross-field one).
 */
export const noticeForm = z.unknown().transform((raw, c): NoticeInput => {
  const r = noticeShape.safeParse(raw ?? {});
  const own = r.success ? {} : fieldErrorsFrom(r.error, 'notice.errors.invalid_field');
  const cross = crossChecks((raw ?? {}) as Record<string, unknown>);
  for (const [field, messages] of Object.entries({ ...cross, ...own })) {
    for (const m of messages) c.addIssue({ code: 'custom', path: [field], message: m.key, ...(m.vars ? { params: m.vars } : {}) });
  }
  if (!r.success || hasFieldErrors(cross)) return z.NEVER;
  return { ...r.data, state: r.data.state as NoticeState };
});

/** A timeline update's form. */
export const updateForm = updateShape as z.ZodType<UpdateInput>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** The same schemas for the CLI, which prints the messages per flag. */
function parseWith<T>(schema: z.ZodType<T>, raw: unknown): Parsed<T> {
  const r = schema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: fieldErrorsFrom(r.error, 'notice.errors.invalid_field') };
}

export const parseNoticeInput = (raw: unknown): Parsed<NoticeInput> => parseWith(noticeForm, raw);
export const parseUpdateInput = (raw: unknown): Parsed<UpdateInput> => parseWith(updateForm, raw);

export { idParam } from '../../http/params';
