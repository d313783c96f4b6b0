import type { Feature } from '../feature';
import { registerCampaignCli } from './cli';

/** Re-registration campaigns: known addresses, templates, exactly-once sending, unsubscribe, bounces, funnel. */
export const feature: Feature = {
  name: 'campaigns',
  cli: registerCampaignCli,
};
