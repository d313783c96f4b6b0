import type { AppContext } from '../../app-context';
import { catalogueTree, resolveTree, type CatalogueRun, type EraOption } from './media-catalogue';
import type { SourceRow } from './repo';
import { withSource } from './service-core';
export { addDatabase } from './database-source';
import type { Progress } from './progress';

/** `salvage add-media`: catalogue an uploads tree (idempotent, resumable). */
export async function addMedia(ctx: AppContext, dir: string, opts: { era: EraOption; progress?: Progress; threads?: number; batchSize?: number }): Promise<{ source: SourceRow; run: CatalogueRun }> {
  const root = resolveTree(dir);
  const incidentAt = new Date(ctx.config.SALVAGE_INCIDENT_AT);
  const { source, result } = await withSource(ctx, 'media', `${root}`, root, async (src) => {
    const run = await catalogueTree(ctx.knex, src.id, root, { era: opts.era, incidentAt, progress: opts.progress, threads: opts.threads, batchSize: opts.batchSize });
    return { result: run, details: { ...run.counts, era_option: opts.era }, warnings: run.warnings };
  });
  return { source, run: result };
}
