import type { AppContext } from '../../../app-context';
import { recordAudit } from '../../../audit/service';
import { runLocalTask } from '../../../jobs/runner';
import { logger } from '../../../logger';
import type { Candidate, ImportFormat } from './parse';
import { importCandidates, updateImportRun } from './service';

/**
 * Runs an import in the background of this process (LOCAL_TASKS.campaignImport in src/jobs/registry.ts); the admin page polls
 * the run's row for progress and the result. A clean stop waits for it; the work is the
 * same as the CLI's and as idempotent, so a run cut short by a crash can simply be imported again.
 * `candidates` is streamed (a CSV is parsed as it is read), and the spooled
 * upload is removed when the run ends, whatever the outcome.
 */
export function runImport(
  ctx: AppContext,
  runId: number,
  upload: { filename: string; format: ImportFormat; lines?: number },
  candidates: () => Promise<Iterable<Candidate> | AsyncIterable<Candidate>>,
  cleanup: () => Promise<void>,
  actor: string,
) {
  const removeSpooled = () => cleanup().catch((err: unknown) => logger.warn({ err, runId }, 'could not remove the spooled upload'));
  // In this process (the spooled file is on its disk), tracked by src/jobs/runner.ts so a stop waits for it.
  runLocalTask(ctx, 'campaignImport', async () => {
    try {
      if (upload.lines) await updateImportRun(ctx.knex, runId, { total: upload.lines });
      let last = 0;
      const result = await importCandidates(ctx.knex, await candidates(), `${upload.format}:${upload.filename}`, (done) => {
        if (Date.now() - last < 300) return;
        last = Date.now();
        void updateImportRun(ctx.knex, runId, { processed: done }).catch(() => undefined);
      }).finally(removeSpooled);
      await updateImportRun(ctx.knex, runId, { status: 'done', total: result.total, processed: result.total, result, finished: true });
      await recordAudit(ctx.knex, actor, 'campaigns.import', `import:${runId}`, { file: upload.filename, imported: result.imported, merged: result.merged, rejected: result.rejected.length });
    } catch (err) {
      await removeSpooled();
      await updateImportRun(ctx.knex, runId, { status: 'failed', error: (err as Error).message.slice(0, 500), finished: true }).catch(() => undefined);
      throw err; // logged by the runner
    }
  });
}
