import type { Request } from 'express';
import type { AppContext } from '../../app-context';
import type { DashboardPanel } from '../feature';
import { isStaff } from '../../auth/user';
import { countAddresses } from './addresses/repo';
import { listCampaigns } from './lifecycle/repo';

/** The dashboard panel: how many addresses are known and the latest campaigns' states. */
export async function campaignPanel(ctx: AppContext, req: Request): Promise<DashboardPanel | null> {
  if (!isStaff(req.user)) return null;
  const campaigns = (await listCampaigns(ctx.knex)).slice(0, 3);
  return { partial: 'campaigns/panel', locals: { addresses: await countAddresses(ctx.knex), campaigns } };
}
