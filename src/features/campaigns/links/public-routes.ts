import express, { Router, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { validateLink, LinkGone } from '../../../http/links';
import { checkLink, unsubscribe, linkTokenParams, UNSUBSCRIBE_NEXT } from './service';

/** Public pages rendered before the session middleware: the layout's signed-in bits stay empty. */
function renderPublic(res: Response, view: string, locals: Record<string, unknown>, status = 200) {
  res.locals.user = null;
  res.locals.csrfToken = () => '';
  res.status(status).render(view, locals);
}

/**
 * RFC 8058 one-click unsubscribe: mail clients POST without cookies or CSRF
 * token, so it is answered before the session; the signed link is the authority.
 * Success is 200 (what mailbox providers check for: any 2xx). A dead link follows src/http/links.ts like the page:
 * out of shape 400, forged/expired/naming no recipient 410. RFC 8058 defines no error answers; a 2xx there would
 * tell the provider that an unsubscribe happened when none did, and 410 says "permanent, do not retry".
 */
export function oneClickUnsubscribeRoutes(ctx: AppContext): Router {
  const router = Router();

  const linkToken = validateLink({ params: linkTokenParams }, UNSUBSCRIBE_NEXT);
  router.post('/u/:token', linkToken, express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const claims = checkLink(ctx.config, 'u', linkToken.of(req).params.token);
    const done = claims ? await unsubscribe(ctx.knex, claims) : null;
    if (!done) throw new LinkGone(UNSUBSCRIBE_NEXT);
    return renderPublic(res, 'campaigns/unsubscribed', { title: req.t('campaigns.unsubscribe.done_title'), email: done.email });
  });

  return router;
}
