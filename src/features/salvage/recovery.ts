import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import { listSources } from './repo';

/**
 * The recovery checklist's "salvage" line: done once at least one source is catalogued
 * completely; a warning while the last attempt at a source failed and none succeeded.
 */
export async function salvageRecoveryChecks(ctx: AppContext): Promise<RecoveryCheck[]> {
  const sources = await listSources(ctx.knex);
  const complete = sources.filter((s) => s.status === 'complete');
  const failed = sources.filter((s) => s.status === 'failed');
  if (complete.length) {
    const kinds = [...new Set(complete.map((s) => s.kind))].join(', ');
    return [{ id: 'salvage', state: 'done', detail: 'salvage.catalogued', vars: { count: complete.length, kinds, failed: failed.length } }];
  }
  if (failed.length) return [{ id: 'salvage', state: 'warn', detail: 'salvage.failed', vars: { failed: failed.length } }];
  return [{ id: 'salvage', state: 'todo', detail: 'salvage.none' }];
}
