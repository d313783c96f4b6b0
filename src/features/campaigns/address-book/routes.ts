import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../app-context';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import { normaliseAddress } from '../addresses/normalise';
import { searchAddresses, suppressByAdmin, unsuppressByAdmin } from './service';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';
const actionForm = z.object({ email: z.string().max(320), note: z.string().max(500).optional() });

/** /admin/campaigns/addresses: one address's imports, messages, clicks, bounces and suppression, with suppress / unsuppress. */
export function addressBookRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/admin/campaigns/addresses', requireStaff, async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 320) : '';
    const found = await searchAddresses(ctx.knex, q);
    const notice = typeof req.query.notice === 'string' ? req.query.notice : null;
    res.render('campaigns/addresses', { title: req.t('campaigns.address_book.title'), headExtra: HEAD, q, notice, ...found });
  });

  router.post('/admin/campaigns/addresses/:action', requireStaff, async (req, res, next) => {
    if (req.params.action !== 'suppress' && req.params.action !== 'unsuppress') return next();
    const parsed = actionForm.safeParse(req.body);
    const n = normaliseAddress(parsed.success ? parsed.data.email : '');
    if (!parsed.success || !n.ok) return res.status(422).render('campaigns/addresses', { title: req.t('campaigns.address_book.title'), headExtra: HEAD, q: '', notice: 'invalid', matches: [], detail: null });
    const actor = userActor(req.user!);
    const changed = req.params.action === 'suppress' ? await suppressByAdmin(ctx.knex, n.key, actor, parsed.data.note?.trim() || null) : await unsuppressByAdmin(ctx.knex, n.key, actor);
    const notice = changed ? `${req.params.action}ed` : `already_${req.params.action}ed`;
    return res.redirect(303, `/admin/campaigns/addresses?q=${encodeURIComponent(n.key)}&notice=${notice}`);
  });
  return router;
}
