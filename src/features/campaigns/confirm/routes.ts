import { Router, type Request } from 'express';
import type { AppContext } from '../../../app-context';
import { idParam, parseParam } from '../../../http/params';
import { requireStaff } from '../../../auth/guards';
import { NotFound } from '../../../http/errors';
import { formatTokyo } from '../../../i18n/tokyo-time';
import type { Campaign } from '../lifecycle/repo';
import { getCampaign } from '../lifecycle/service';
import { planCancel, planSending } from './service';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';

async function load(ctx: AppContext, req: Request): Promise<Campaign> {
  const c = await getCampaign(ctx.knex, parseParam(idParam, req.params.id, 'campaigns.not_found'));
  if (!c) throw NotFound('campaigns.not_found');
  return c;
}

/**
 * The confirmation step before sending to everyone or cancelling: the first
 * POST (no confirm=1) answers a page that says what will happen and posts
 * again with confirm=1; only that second POST reaches the action. Works
 * without JavaScript.
 */
export function campaignConfirmRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/admin/campaigns/:id/send', requireStaff, async (req, res, next) => {
    if (req.body?.confirm === '1') return next();
    const c = await load(ctx, req);
    const plan = await planSending(ctx.knex, c);
    res.render('campaigns/confirm', {
      title: req.t('campaigns.confirm.send_title'),
      headExtra: HEAD,
      campaign: c,
      action: 'send',
      lines: [
        req.t('campaigns.confirm.send_count', { count: plan.recipients }),
        plan.ratePerMinute > 0 ? req.t('campaigns.confirm.send_rate', { n: plan.ratePerMinute }) : req.t('campaigns.confirm.send_no_limit'),
        plan.endsAt ? req.t('campaigns.confirm.send_ends', { at: formatTokyo(plan.endsAt, req.lang) }) : '',
      ].filter(Boolean),
      button: req.t('campaigns.confirm.send_button', { count: plan.recipients }),
    });
  });

  router.post('/admin/campaigns/:id/cancel', requireStaff, async (req, res, next) => {
    if (req.body?.confirm === '1') return next();
    const c = await load(ctx, req);
    const plan = await planCancel(ctx.knex, c);
    res.render('campaigns/confirm', {
      title: req.t('campaigns.confirm.cancel_title'),
      headExtra: HEAD,
      campaign: c,
      action: 'cancel',
      lines: plan.draft ? [req.t('campaigns.confirm.cancel_draft')] : [req.t('campaigns.confirm.cancel_counts', { sent: plan.sent, unsent: plan.unsent }), req.t('campaigns.confirm.cancel_final')],
      button: req.t('campaigns.confirm.cancel_button'),
    });
  });

  return router;
}
