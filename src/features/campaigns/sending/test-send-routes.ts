import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { idParam, idParams, parseParam } from '../../../http/params';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import { NotFound } from '../../../http/errors';
import type { FieldErrors } from '../../../http/field-errors';
import { createLimiter } from '../../../http/rate-limit';
import { validate } from '../../../http/validate';
import type { Campaign } from '../lifecycle/repo';
import { getCampaign } from '../lifecycle/service';
import { testSendSchema } from '../schema';
import { queueTestMessage } from './jobs';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';

async function load(ctx: AppContext, req: Request): Promise<Campaign> {
  const c = await getCampaign(ctx.knex, parseParam(idParam, req.params.id, 'campaigns.not_found'));
  if (!c) throw NotFound('campaigns.not_found');
  return c;
}

/** The test-send box again, with what was typed and each problem beside its field. */
function renderRefused(req: Request, res: Response, campaign: Campaign, errors: FieldErrors) {
  const typed = typeof req.body?.to === 'string' ? req.body.to.slice(0, 10_000) : '';
  res.status(422).render('campaigns/test-send', {
    title: req.t('campaigns.test.title'),
    headExtra: HEAD,
    campaign,
    to: typed,
    lang: req.body?.lang === 'en' ? 'en' : 'ja',
    errors,
  });
}

/** POST /admin/campaigns/:id/test-send: the campaign's message to a typed list of addresses (at most TEST_SEND_MAX), marked as a test. */
export function testSendRoutes(ctx: AppContext): Router {
  const router = Router();
  const testLimiter = createLimiter(ctx.knex, { name: 'campaign-test-send', windowMs: 15 * 60_000, limit: 10, key: (req) => (req.user ? `user:${req.user.id}` : undefined) });
  const testForm = validate(
    { params: idParams, body: testSendSchema },
    { notFoundKey: 'campaigns.not_found', onInvalid: async (req, res, errors) => renderRefused(req, res, await load(ctx, req), errors) },
  );

  // Without a list, the admin's own address, checked like a typed one (an account without an address is told so).
  const ownAddressByDefault = (req: Request, _res: Response, next: () => void) => {
    if (req.body?.to === undefined) req.body = { ...(req.body ?? {}), to: req.user?.email ?? '' };
    next();
  };
  router.post('/admin/campaigns/:id/test-send', requireStaff, testLimiter, ownAddressByDefault, testForm, async (req, res) => {
    const c = await load(ctx, req);
    const { to, lang } = testForm.of(req).body;
    // Queued: a worker sends each one, retrying a failed send (src/jobs/registry.ts: campaigns.test-send).
    for (const address of to) await queueTestMessage(ctx, c.id, lang, address, userActor(req.user!));
    return res.redirect(303, `/admin/campaigns/${c.id}?notice=test_sent`);
  });

  return router;
}
