import { z } from 'zod';
import { idParams } from '../../http/params';

/** /admin/backups/:id/...: a backup id (malformed answers 404, see http/params.ts). */
export const backupIdParams = idParams;
export const runForm = z.object({ kind: z.enum(['database', 'media'], 'backups.errors.bad_kind').default('database') });

/** The test-alert button's form: `next` only ever returns to one of the two staff pages (anything else: the backups page). */
export const testAlertForm = z.object({ next: z.enum(['/admin/recovery', '/admin/backups']).optional().catch(undefined) });
