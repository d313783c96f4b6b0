import type { Feature } from '../feature';
import { exportRoutes } from './routes';
import { startExportWorker, startLoginLinkWorker } from './jobs';
import { runBackgroundExport, sweepExpiredExports, mailExportLoginLink, recoverOrphanedExports } from './service';
import { registerExportCli } from './cli';
import { logger } from '../../logger';
import { jobStats } from './repo';

const SWEEP_MS = 10 * 60_000;
/** How often running exports are checked for a dead owner (the check is a lock probe per running job). */
const RECOVER_MS = 30_000;

/** Personal data export: /export, GET /api/me/export, background archives, export-only sign-in links. */
export const feature: Feature = {
  name: 'export',
  routes: exportRoutes,
  async start(ctx) {
    // Work a killed process left "running" is taken over before anything new starts, then checked again periodically.
    const recover = () => recoverOrphanedExports(ctx).catch((err: unknown) => logger.warn({ err }, 'export recovery failed'));
    await recover();
    const recovery = setInterval(recover, RECOVER_MS);
    recovery.unref();
    await startExportWorker(ctx, (id) => runBackgroundExport(ctx, id));
    await startLoginLinkWorker(ctx, (userId, lang) => mailExportLoginLink(ctx, userId, lang));
    const sweep = () => sweepExpiredExports(ctx).catch((err: unknown) => logger.warn({ err }, 'export sweep failed'));
    void sweep();
    const timer = setInterval(sweep, SWEEP_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      clearInterval(recovery);
    };
  },
  async dashboard(ctx) {
    return { partial: 'export/panel', locals: { exportStats: await jobStats(ctx.knex) } };
  },
  cli: registerExportCli,
};
