import { z } from 'zod';

export const backupIdParam = z.object({ id: z.coerce.number().int().positive() });
export const runForm = z.object({ kind: z.enum(['database', 'media']).default('database') });
