import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import * as repo from './repo';
import { restoreCount } from './restore-repo';
import { archivesByStatus } from './archive-repo';

/** The recovery checklist's "claims" line (/admin/recovery): claims or archives waiting for staff are a warning. */
export async function claimsRecoveryChecks(ctx: AppContext): Promise<RecoveryCheck[]> {
  const counts = await repo.countByStatus(ctx.knex);
  const archives = await archivesByStatus(ctx.knex, 'review');
  if (archives.length && !counts.pending) return [{ id: 'claims', state: 'warn', detail: 'claims.archives_waiting', vars: { pending: archives.length, oldest: archives[0]!.created_at } }];
  const pending = counts.pending ?? 0;
  const approved = counts.approved ?? 0;
  if (!pending && !approved && !(counts.rejected ?? 0)) return [{ id: 'claims', state: 'todo', detail: 'claims.none' }];
  if (pending) {
    const oldest = (await repo.claimsByStatus(ctx.knex, 'pending'))[0]!.created_at;
    return [{ id: 'claims', state: 'warn', detail: 'claims.waiting', vars: { pending, oldest } }];
  }
  return [{ id: 'claims', state: 'done', detail: 'claims.clear', vars: { approved, restores: await restoreCount(ctx.knex) } }];
}
