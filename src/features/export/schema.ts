import { z } from 'zod';
import { uuidParam } from '../../http/params';

export const formatQuery = z.object({ format: z.enum(['zip', 'json'], 'export.bad_format').default('zip') });

export const exportForm = z.object({ format: z.enum(['zip', 'json']) });

export const linkRequestForm = z.object({ email: z.email('export.link_bad_email').max(254, 'export.link_bad_email') });

export const downloadQuery = z.object({
  expires: z.string().regex(/^\d{1,12}$/),
  sig: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/),
});

export const staffForm = z.object({
  user: z.string('export.staff_user_required').trim().min(1, 'export.staff_user_required').max(254, 'export.staff_not_found'),
  format: z.enum(['zip', 'json']).default('zip'),
});

/** /export/download/:id: the job's uuid. */
export const downloadParams = z.object({ id: uuidParam });

/** /export/link/:token: the e-mailed login link's token (32 random bytes, base64url). */
export const linkParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });
