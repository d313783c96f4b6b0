import { z } from 'zod';

/** A checklist line's id; malformed answers 404 like an unknown line (http/params.ts). */
export const itemParam = z.object({ item: z.string().regex(/^[a-z_]{1,40}$/) });
export const tickForm = z.object({ note: z.string().trim().max(200, 'errors.too_long').optional().transform((v) => (v ? v : null)) });
export const flashQuery = z.enum(['ticked', 'unticked', 'test_alert_sent', 'test_alert_failed']).optional().catch(undefined);
