import type { AppContext } from '../../app-context';
import type { DashboardPanel } from '../feature';
import { listAudit } from '../../audit/service';
import { countActiveSuperusers } from '../../toybox/superusers';
import { setupState } from './tokens';

/** The dashboard's view of bootstrap: how many superusers can administer TOYBOX, whether /setup is open, recent actions. */
export async function bootstrapPanel(ctx: AppContext): Promise<DashboardPanel> {
  const [superusers, state, bootstrap, admin] = await Promise.all([
    countActiveSuperusers(ctx.knex),
    setupState(ctx),
    listAudit(ctx.knex, 5, 'bootstrap.'),
    listAudit(ctx.knex, 5, 'admin.'),
  ]);
  const recent = [...bootstrap, ...admin].sort((a, b) => b.id - a.id).slice(0, 5);
  return { partial: 'bootstrap/panel', locals: { superusers, state, recent } };
}
