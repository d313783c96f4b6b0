import { z } from 'zod';

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

export const mappingSchema = z.object({
  address: z.coerce.number().int().min(0),
  displayId: z.coerce.number().int().min(-1).optional(),
  name: z.coerce.number().int().min(-1).optional(),
  source: z.coerce.number().int().min(-1).optional(),
  lang: z.coerce.number().int().min(-1).optional(),
});
