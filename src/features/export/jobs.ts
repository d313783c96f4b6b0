import type { AppContext } from '../../app-context';
import { enqueue, work } from '../../jobs/queue';

/** Job names are a contract with jobs already waiting in the database: never rename in place. */
export const EXPORT_JOBS = {
  build: 'export.build',
} as const;

export async function enqueueBuild(ctx: AppContext, exportJobId: string): Promise<void> {
  await enqueue(ctx, EXPORT_JOBS.build, { exportJobId }, { singletonKey: exportJobId, retryLimit: 0 });
}

/** Registers the background export worker; the handler receives the export job id only. */
export async function startExportWorker(
  ctx: AppContext,
  handler: (exportJobId: string) => Promise<void>,
  pollingIntervalSeconds = 2,
): Promise<void> {
  await work<{ exportJobId: string }>(ctx, EXPORT_JOBS.build, (data) => handler(data.exportJobId), { batchSize: 1, pollingIntervalSeconds });
}
