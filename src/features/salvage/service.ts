import type { AppContext } from '../../app-context';
import { catalogueTree, resolveTree, type CatalogueRun, type EraOption } from './media-catalogue';
import { lockSource } from './lock';
import { findOrCreateSource, markSource, type SourceKind, type SourceRow } from './repo';
import type { Progress } from './progress';

/**
 * Runs `work` on the source identified by (kind, fingerprint) while holding its
 * lock: the row says 'running' only as long as a live run holds the lock, and
 * ends 'complete' or 'failed' with the error; never half-reported as complete.
 */
export async function withSource<T>(
  ctx: AppContext,
  kind: SourceKind,
  fingerprint: string,
  locator: string,
  work: (source: SourceRow) => Promise<{ result: T; details: Record<string, unknown>; warnings: string[]; schema_name?: string }>,
): Promise<{ source: SourceRow; result: T }> {
  const source = await findOrCreateSource(ctx.knex, kind, fingerprint, locator);
  const lock = await lockSource(ctx.databaseUrl, source.id);
  try {
    await markSource(ctx.knex, source.id, { status: 'running', error: null, locator, started: true });
    try {
      const out = await work(source);
      await markSource(ctx.knex, source.id, { status: 'complete', details: out.details, warnings: out.warnings.slice(0, 500), schema_name: out.schema_name, finished: true });
      return { source: { ...source, status: 'complete' }, result: out.result };
    } catch (err) {
      await markSource(ctx.knex, source.id, { status: 'failed', error: (err as Error).message.slice(0, 2000), finished: true }).catch(() => undefined);
      throw err;
    }
  } finally {
    await lock.release();
  }
}

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
