import type { AppContext } from '../../app-context';
import { enqueue, work } from '../../jobs/queue';

/** Job names are a contract with jobs already waiting in the database: never rename in place. */
export const EXPORT_JOBS = {
  build: 'export.build',
  loginLink: 'export.login-link',
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

/** The one-time link is made by the worker, so the token never waits in the queue in plain text. */
export async function enqueueLoginLink(ctx: AppContext, userId: number, lang: 'ja' | 'en'): Promise<void> {
  await enqueue(ctx, EXPORT_JOBS.loginLink, { userId, lang }, { retryLimit: 2, retryDelay: 10 });
}

export async function startLoginLinkWorker(
  ctx: AppContext,
  handler: (userId: number, lang: 'ja' | 'en') => Promise<void>,
  pollingIntervalSeconds = 2,
): Promise<void> {
  await work<{ userId: number; lang: 'ja' | 'en' }>(ctx, EXPORT_JOBS.loginLink, (data) => handler(data.userId, data.lang), { batchSize: 10, pollingIntervalSeconds });
}
