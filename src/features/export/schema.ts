import { z } from 'zod';

export const formatQuery = z.object({ format: z.enum(['zip', 'json']).default('zip') });

export const exportForm = z.object({ format: z.enum(['zip', 'json']) });

export const linkRequestForm = z.object({ email: z.email().max(254) });

export const downloadQuery = z.object({
  expires: z.string().regex(/^\d{1,12}$/),
  sig: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/),
});

export const staffForm = z.object({
  user: z.string().trim().min(1).max(254),
  format: z.enum(['zip', 'json']).default('zip'),
});
