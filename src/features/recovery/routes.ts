import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { userActor } from '../../audit/service';
import { BadRequest } from '../../http/errors';
import { flashQuery, itemParam, tickForm } from './schema';
import { buildChecklist, tickItem, untickItem } from './service';
import { checklistView } from './view-model';

/** /admin/recovery: the live checklist, and ticking/unticking the lines the portal cannot check. */
export function recoveryRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/admin/recovery', requireStaff, async (req, res) => {
    const view = checklistView(await buildChecklist(ctx), req);
    res.set('Cache-Control', 'no-store');
    res.render('recovery/index', {
      title: req.t('recovery.title'),
      headExtra: '<link rel="stylesheet" href="/static/css/recovery.css">',
      flash: flashQuery.parse(req.query.done),
      ...view,
    });
  });

  router.post('/admin/recovery/items/:item/tick', requireStaff, async (req, res) => {
    const params = itemParam.safeParse(req.params);
    const form = tickForm.safeParse(req.body ?? {});
    if (!params.success || !form.success) throw BadRequest('recovery.errors.bad_tick');
    await tickItem(ctx, params.data.item, userActor(req.user!), form.data.note);
    res.redirect(303, `/admin/recovery?done=ticked#item-${params.data.item}`);
  });

  router.post('/admin/recovery/items/:item/untick', requireStaff, async (req, res) => {
    const params = itemParam.safeParse(req.params);
    if (!params.success) throw BadRequest('recovery.errors.bad_tick');
    await untickItem(ctx, params.data.item, userActor(req.user!));
    res.redirect(303, `/admin/recovery?done=unticked#item-${params.data.item}`);
  });
  return router;
}
