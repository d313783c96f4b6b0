import { Router } from 'express';
import type { Feature } from '../feature';
import { registerCampaignCli } from './cli';
import { campaignPublicRoutes } from './links/public-routes';
import { campaignRoutes } from './lifecycle/routes';
import { campaignConfirmRoutes } from './confirm/routes';
import { campaignImportRoutes } from './addresses/import-routes';
import { campaignOutboxRoutes } from '../../mail/captured/routes';
import { reregisterRoutes } from './reregister/routes';
import { addressBookRoutes } from './address-book/routes';
import { campaignBackground } from './sending/jobs';
import { campaignPanel } from './panel';
import { campaignRecoveryChecks } from './recovery';

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
  background: campaignBackground,
  dashboard: campaignPanel,
  recoveryChecks: campaignRecoveryChecks,
  cli: registerCampaignCli,
};
