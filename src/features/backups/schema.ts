import { z } from 'zod';
import { idParams } from '../../http/params';

/** /admin/backups/:id/...: a backup id (malformed answers 404, see http/params.ts). */
export const backupIdParams = idParams;
export const runForm = z.object({ kind: z.enum(['database', 'media'], 'backups.errors.bad_kind').default('database') });
