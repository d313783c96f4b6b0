import { Router, type Request } from 'express';
import type { AppContext } from '../../../app-context';
import { idParam, parseParam } from '../../../http/params';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import { NotFound } from '../../../http/errors';
import { createLimiter } from '../../../http/rate-limit';
import { formatTokyo } from '../../../http/tokyo-time';
import type { Campaign } from '../lifecycle/repo';
import { getCampaign } from '../lifecycle/service';
import { planCancel, planSending } from './service';
import { queueTestMessage } from '../sending/jobs';
import { normaliseAddress } from '../addresses/normalise';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';
/** Test messages per request: a test, not a send. */
export const TEST_SEND_MAX = 10;

async function load(ctx: AppContext, req: Request): Promise<Campaign> {
  const c = await getCampaign(ctx.knex, parseParam(idParam, req.params.id, 'campaigns.not_found'));
  if (!c) throw NotFound('campaigns.not_found');
  return c;
}

/** The addresses typed in the test-send box: one per line or comma-separated, each checked, at most TEST_SEND_MAX. */
export function parseTestAddresses(raw: unknown): { ok: true; to: string[] } | { ok: false; error: string; bad?: string } {
  const parts = (typeof raw === 'string' ? raw : '').split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return { ok: false, error: 'campaigns.test.none' };
  const unique = [...new Map(parts.map((p) => [p.toLowerCase(), p])).values()];
  if (unique.length > TEST_SEND_MAX) return { ok: false, error: 'campaigns.test.too_many' };
  for (const p of unique) if (!normaliseAddress(p).ok) return { ok: false, error: 'campaigns.test.bad', bad: p };
  return { ok: true, to: unique };
}

/**
 * The confirmation step before sending to everyone or cancelling: the first
 * POST (no confirm=1) answers a page that says what will happen and posts
 * again with confirm=1; only that second POST reaches the action. Works
 * without JavaScript. Also the test send to a list of addresses.
 */
export function campaignConfirmRoutes(ctx: AppContext): Router {
  const router = Router();
  const testLimiter = createLimiter(ctx.knex, { name: 'campaign-test-send', windowMs: 15 * 60_000, limit: 10, key: (req) => (req.user ? `user:${req.user.id}` : undefined) });

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

  router.post('/admin/campaigns/:id/test-send', requireStaff, testLimiter, async (req, res) => {
    const c = await load(ctx, req);
    const parsed = parseTestAddresses(req.body?.to ?? req.user!.email);
    if (!parsed.ok) {
      return res.status(422).render('campaigns/confirm', {
        title: req.t('campaigns.test.title'),
        headExtra: HEAD,
        campaign: c,
        action: null,
        error: req.t(parsed.error, { max: TEST_SEND_MAX, address: parsed.bad ?? '' }),
        lines: [],
        button: '',
      });
    }
    const lang = req.body?.lang === 'en' ? 'en' : 'ja';
    // Queued: a worker sends each one, retrying a failed send (src/jobs/registry.ts: campaigns.test-send).
    for (const to of parsed.to) await queueTestMessage(ctx, c.id, lang, to, userActor(req.user!));
    return res.redirect(303, `/admin/campaigns/${c.id}?notice=test_sent`);
  });

  return router;
}
