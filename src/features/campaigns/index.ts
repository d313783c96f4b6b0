import { Router } from 'express';
import type { Feature } from '../feature';
import { registerCampaignCli } from './cli';
import { campaignPublicRoutes } from './public-routes';
import { campaignRoutes } from './routes';
import { campaignConfirmRoutes } from './confirm-routes';
import { campaignImportRoutes, sweepUploads } from './import-routes';
import { logger } from '../../logger';
import type { AppContext } from '../../app-context';
import { campaignOutboxRoutes } from './outbox-routes';
import { reregisterRoutes } from './reregister-routes';
import { addressBookRoutes } from './address-book/routes';
import { startCampaignWorker } from './jobs';
import { campaignPanel } from './panel';
import { campaignRecoveryChecks } from './recovery';

const UPLOAD_SWEEP_MS = 15 * 60_000;

/** The campaign worker, and the sweep of address uploads never mapped (at start, then every 15 minutes). */
async function startCampaigns(ctx: AppContext): Promise<() => Promise<void>> {
  const stopWorker = await startCampaignWorker(ctx);
  const sweep = () => sweepUploads(ctx).catch((err: unknown) => logger.warn({ err }, 'upload sweep failed'));
  void sweep();
  const timer = setInterval(sweep, UPLOAD_SWEEP_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await stopWorker();
  };
}

/** Re-registration campaigns: known addresses, templates, exactly-once sending, unsubscribe, bounces, funnel. */
export const feature: Feature = {
  name: 'campaigns',
  publicRoutes: campaignPublicRoutes,
  routes(ctx) {
    const router = Router();
    // Static paths (import, outbox) before /admin/campaigns/:id.
    router.use(campaignImportRoutes(ctx));
    router.use(campaignOutboxRoutes(ctx));
    router.use(reregisterRoutes(ctx));
    router.use(campaignConfirmRoutes(ctx)); // confirmation steps before the actions they guard
    router.use(addressBookRoutes(ctx));
    router.use(campaignRoutes(ctx));
    return router;
  },
  start: startCampaigns,
  dashboard: campaignPanel,
  recoveryChecks: campaignRecoveryChecks,
  cli: registerCampaignCli,
};
