import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import type { FieldErrors } from '../../../http/field-errors';
import { validate } from '../../../http/validate';
import { normaliseAddress } from '../addresses/normalise';
import { addressActionParams, addressActionSchema } from '../schema';
import { searchAddresses, suppressByAdmin, unsuppressByAdmin } from './service';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css">';

async function renderBook(ctx: AppContext, req: Request, res: Response, q: string, notice: string | null, errors: FieldErrors = {}, status = 200) {
  const found = await searchAddresses(ctx.knex, q);
  res.status(status).render('campaigns/addresses', { title: req.t('campaigns.address_book.title'), headExtra: HEAD, q, notice, errors, ...found });
}

/**
 * /admin/campaigns/addresses: one address's imports, messages, clicks, bounces and suppression, with suppress / unsuppress.
 */
export function addressBookRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/admin/campaigns/addresses', requireStaff, async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 320) : '';
    await renderBook(ctx, req, res, q, typeof req.query.notice === 'string' ? req.query.notice : null);
  });

  // A bad address is said above the page; a bad note beside its box, with the address it was for opened again.
  const actionForm = validate(
    { params: addressActionParams, body: addressActionSchema },
    {
      onInvalid: async (req, res, errors) => {
        const n = normaliseAddress(typeof req.body?.email === 'string' ? req.body.email : '');
        await renderBook(ctx, req, res, n.ok ? n.key : '', null, errors, 422);
      },
    },
  );
  router.post('/admin/campaigns/addresses/:action', requireStaff, actionForm, async (req, res) => {
    const { params, body } = actionForm.of(req);
    const actor = userActor(req.user!);
    const changed = params.action === 'suppress' ? await suppressByAdmin(ctx.knex, body.email, actor, body.note) : await unsuppressByAdmin(ctx.knex, body.email, actor);
    const notice = changed ? `${params.action}ed` : `already_${params.action}ed`;
    return res.redirect(303, `/admin/campaigns/addresses?q=${encodeURIComponent(body.email)}&notice=${notice}`);
  });

  return router;
}
