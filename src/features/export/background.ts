import type { BackgroundWork } from '../../jobs/runner';
import { mailExportLoginLink, mailExportReady, recoverOrphanedExports, runBackgroundExport, sweepExpiredExports } from './service';

/** Handlers for the export entries of src/jobs/registry.ts. */
export const exportBackground: BackgroundWork = {
  queues: {
    exportBuild: (ctx, { exportJobId }) => runBackgroundExport(ctx, exportJobId),
    exportLoginLink: (ctx, { userId, lang }) => mailExportLoginLink(ctx, userId, lang),
    exportReadyMail: (ctx, { exportJobId }) => mailExportReady(ctx, exportJobId),
  },
  timers: {
    // Work a killed process left "running" is taken over before anything new starts (atStart: wait), then checked periodically.
    exportRecoverOrphans: async (ctx) => void (await recoverOrphanedExports(ctx)),
    exportSweepExpired: async (ctx) => void (await sweepExpiredExports(ctx)),
  },
};
