import type { Feature } from '../feature';
import { registerCampaignCli } from './cli';
import { campaignPublicRoutes, campaignRoutes } from './routes';
import { campaignBackground } from './sending/jobs';
import { campaignPanel } from './panel';
import { campaignRecoveryChecks } from './recovery';

/** Re-registration campaigns: known addresses, templates, exactly-once sending, unsubscribe, bounces, funnel. */
export const feature: Feature = {
  name: 'campaigns',
  publicRoutes: campaignPublicRoutes,
  routes: campaignRoutes,
  background: campaignBackground,
  dashboard: campaignPanel,
  recoveryChecks: campaignRecoveryChecks,
  cli: registerCampaignCli,
};
