import { Router } from 'express';
import type { AppContext } from '../app-context';
import type { Feature, DashboardPanel } from '../features/feature';
import { requireStaff } from '../auth/guards';
import { listAudit } from '../audit/service';

/** The staff dashboard: one panel per feature, and the audit log. */
export function adminRoutes(ctx: AppContext, features: Feature[]): Router {
  const router = Router();
  router.get('/admin', requireStaff, async (req, res) => {
    for (const f of features) {
      const landing = f.adminLanding ? await f.adminLanding(ctx, req) : null;
      if (landing) return res.redirect(303, landing);
    }
    const panels: DashboardPanel[] = [];
    for (const f of features) {
      const panel = f.dashboard ? await f.dashboard(ctx, req) : null;
      if (panel) panels.push(panel);
    }
    panels.sort((a, b) => Number(Boolean(b.first)) - Number(Boolean(a.first)));
    const audit = await listAudit(ctx.knex, 20);
    res.render('admin/index', { title: req.t('admin.title'), panels, audit });
  });
  router.get('/admin/audit', requireStaff, async (req, res) => {
    const audit = await listAudit(ctx.knex, 500);
    res.render('admin/audit', { title: req.t('admin.audit_title'), audit });
  });
  return router;
}
