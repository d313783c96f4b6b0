import { z } from 'zod';
import { normaliseAddress } from './addresses/normalise';

const bounceEvent = z.object({
  email: z.string().min(3).max(320),
  type: z.enum(['hard', 'soft', 'complaint']),
  status: z.string().max(20).optional(),
  reason: z.string().max(1000).optional(),
  /** The provider's event id: a redelivered event is counted once. */
  id: z.string().max(200).optional(),
});

/** `{"events":[...]}` or one event object. */
export const bounceWebhookSchema = z
  .union([z.object({ events: z.array(bounceEvent).min(1).max(1000) }), bounceEvent])
  .transform((v) => ('events' in v ? v : { events: [v] }));

const optionalText = z
  .string()
  .optional()
  .transform((s) => (s && s.trim() ? s.replace(/\r\n/g, '\n') : null));

/** The campaign form; template problems are checked by the service after this. */
export const campaignFormSchema = z.object({
  name: z.string().trim().min(1, 'campaigns.form.required').max(200),
  subject_ja: z.string().trim().min(1, 'campaigns.form.required').max(300),
  text_ja: z.string().min(1, 'campaigns.form.required').transform((s) => s.replace(/\r\n/g, '\n')),
  html_ja: optionalText,
  subject_en: optionalText,
  text_en: optionalText,
  html_en: optionalText,
  rate_per_minute: z.coerce.number().int('campaigns.form.whole_number').min(0, 'campaigns.form.rate_range').max(1_000_000, 'campaigns.form.rate_range'),
  concurrency: z.coerce.number().int('campaigns.form.whole_number').min(1, 'campaigns.form.concurrency_range').max(50, 'campaigns.form.concurrency_range'),
  pause_after_failures: z.coerce.number().int('campaigns.form.whole_number').min(1, 'campaigns.form.whole_number').max(100000).default(10),
});
export type CampaignForm = z.infer<typeof campaignFormSchema>;

/** A column index of the mapping form (-1: none, for the optional fields). */
const column = (min: number) => z.coerce.number({ error: 'campaigns.map.bad_column' }).int('campaigns.map.bad_column').min(min, 'campaigns.map.bad_column').max(10_000, 'campaigns.map.bad_column');

/** Which column of the uploaded CSV holds what; the address is required. */
export const mappingSchema = z.object({
  address: column(0),
  displayId: column(-1).optional(),
  name: column(-1).optional(),
  source: column(-1).optional(),
  lang: column(-1).optional(),
});

/** An upload key the portal chose (src/features/campaigns/addresses/upload-store.ts): 24 hex digits. */
export const uploadKeyParams = z.object({ key: z.string().regex(/^[0-9a-f]{24}$/) });

/** An address an admin form carries, normalised as on import (full-width, upper case); the value is its key. */
const addressKey = z.string({ error: 'campaigns.errors.email_invalid' }).max(320, 'campaigns.errors.email_invalid').transform((s, ctx) => {
  const n = normaliseAddress(s);
  if (n.ok) return n.key;
  ctx.addIssue({ code: 'custom', message: 'campaigns.errors.email_invalid' });
  return z.NEVER;
});

/** The block box on the campaigns page. */
export const blockSchema = z.object({ email: addressKey });

/** A campaign's start time: datetime-local has no zone, and the site's times are Japan time. */
export const scheduleSchema = z.object({
  at: z
    .string({ error: 'campaigns.show.schedule_invalid' })
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'campaigns.show.schedule_invalid')
    .transform((raw) => new Date(`${raw}:00+09:00`))
    .refine((d) => !Number.isNaN(d.getTime()), 'campaigns.show.schedule_invalid'),
});

/** The address book's suppress / unsuppress buttons. */
export const addressActionParams = z.object({ action: z.enum(['suppress', 'unsuppress']) });
export const addressActionSchema = z.object({
  email: addressKey,
  note: z.string().max(500, 'campaigns.address_book.errors.note_too_long').optional().transform((s) => s?.trim() || null),
});

/** Test messages per request: a test, not a send. */
export const TEST_SEND_MAX = 10;

/** The test-send box: one address per line or comma-separated, each checked, duplicates (any case) once, at most TEST_SEND_MAX. */
export const testAddressList = z.string({ error: 'campaigns.test.none' }).transform((raw, ctx) => {
  const parts = raw.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  const unique = [...new Map(parts.map((p) => [p.toLowerCase(), p])).values()];
  const bad = unique.find((p) => !normaliseAddress(p).ok);
  let problem: { message: string; params?: Record<string, string | number> } | null = null;
  if (unique.length === 0) problem = { message: 'campaigns.test.none' };
  else if (unique.length > TEST_SEND_MAX) problem = { message: 'campaigns.test.too_many', params: { max: TEST_SEND_MAX } };
  else if (bad !== undefined) problem = { message: 'campaigns.test.bad', params: { address: bad.slice(0, 320) } };
  if (!problem) return unique;
  ctx.addIssue({ code: 'custom', ...problem });
  return z.NEVER;
});

/** The test-send form (without `to`, the route sends the admin's own address). */
export const testSendSchema = z.object({
  to: testAddressList,
  lang: z.enum(['ja', 'en'], { error: 'campaigns.test.bad_lang' }).default('ja'),
});
