import type { AppContext } from '../../app-context';
import * as repo from './repo';
import { restoreCount } from './restore-repo';

/**
 * The recovery checklist's "claims" line (/admin/recovery), in the shape of
 * main's Feature.recoveryChecks (RecoveryCheck). This branch predates that
 * contract: after the merge, `recoveryChecks: claimsRecoveryChecks` goes into
 * index.ts and locales/{ja,en}/recovery.json gain detail.claims.{none,waiting,clear}
 * (texts in docs/claims.md).
 */
export async function claimsRecoveryChecks(ctx: AppContext): Promise<Array<{ id: 'claims'; state: 'done' | 'todo' | 'warn'; detail: string; vars?: Record<string, string | number | Date> }>> {
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
