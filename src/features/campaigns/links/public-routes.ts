import express, { Router, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { tokenParams } from '../../../http/params';
import { validate } from '../../../http/validate';
import { checkLink, unsubscribe } from './service';

/** Public pages rendered before the session middleware: the layout's signed-in bits stay empty. */
function renderPublic(res: Response, view: string, locals: Record<string, unknown>, status = 200) {
  res.locals.user = null;
  res.locals.csrfToken = () => '';
  res.status(status).render(view, locals);
}

/**
 * RFC 8058 one-click unsubscribe: mail clients POST without cookies or CSRF
 * token, so it is answered before the session; the signed link is the authority.
 */
export function oneClickUnsubscribeRoutes(ctx: AppContext): Router {
  const router = Router();

  const linkToken = validate({ params: tokenParams });
  router.post('/u/:token', linkToken, express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const claims = checkLink(ctx.config, 'u', linkToken.of(req).params.token);
    if (!claims) return renderPublic(res, 'campaigns/link-invalid', { title: req.t('campaigns.link.invalid_title') }, 400);
    const done = await unsubscribe(ctx.knex, claims);
    if (!done) return renderPublic(res, 'campaigns/link-invalid', { title: req.t('campaigns.link.invalid_title') }, 404);
    return renderPublic(res, 'campaigns/unsubscribed', { title: req.t('campaigns.unsubscribe.done_title'), email: done.email });
  });

  return router;
}
