import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import * as repo from './repo';
import { restoreCount } from './restore-repo';

/** The recovery checklist's "claims" line (/admin/recovery): claims waiting for staff are a warning. */
export async function claimsRecoveryChecks(ctx: AppContext): Promise<RecoveryCheck[]> {
  const counts = await repo.countByStatus(ctx.knex);
  const pending = counts.pending ?? 0;
  const approved = counts.approved ?? 0;
  if (!pending && !approved && !(counts.rejected ?? 0)) return [{ id: 'claims', state: 'todo', detail: 'claims.none' }];
  if (pending) {
    const oldest = (await repo.claimsByStatus(ctx.knex, 'pending'))[0]!.created_at;
    return [{ id: 'claims', state: 'warn', detail: 'claims.waiting', vars: { pending, oldest } }];
  }
  return [{ id: 'claims', state: 'done', detail: 'claims.clear', vars: { approved, restores: await restoreCount(ctx.knex) } }];
}
