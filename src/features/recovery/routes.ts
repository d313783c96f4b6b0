import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { userActor } from '../../audit/service';
import { validate } from '../../http/validate';
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

  const tick = validate({ params: itemParam, body: tickForm }, { invalidKey: 'recovery.errors.bad_tick' });
  router.post('/admin/recovery/items/:item/tick', requireStaff, tick, async (req, res) => {
    const { params, body } = tick.of(req);
    await tickItem(ctx, params.item, userActor(req.user!), body.note);
    res.redirect(303, `/admin/recovery?done=ticked#item-${params.item}`);
  });

  const untick = validate({ params: itemParam });
  router.post('/admin/recovery/items/:item/untick', requireStaff, untick, async (req, res) => {
    const { item } = untick.of(req).params;
    await untickItem(ctx, item, userActor(req.user!));
    res.redirect(303, `/admin/recovery?done=unticked#item-${item}`);
  });
  return router;
}
