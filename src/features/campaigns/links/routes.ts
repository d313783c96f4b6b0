import { Router } from 'express';
import type { AppContext } from '../../../app-context';
import { tokenParams } from '../../../http/params';
import { validate } from '../../../http/validate';
import { checkLink, unsubscribeState } from './service';

/** The unsubscribe link's page. A GET never unsubscribes (mail scanners follow links): it shows the button that POSTs. */
export function unsubscribePageRoutes(ctx: AppContext): Router {
  const router = Router();
  const linkToken = validate({ params: tokenParams });
  router.get('/u/:token', linkToken, async (req, res) => {
    const { token } = linkToken.of(req).params;
    const claims = checkLink(ctx.config, 'u', token);
    const state = claims ? await unsubscribeState(ctx.knex, claims) : null;
    if (!state) return res.status(claims ? 404 : 400).render('campaigns/link-invalid', { title: req.t('campaigns.link.invalid_title') });
    return res.render('campaigns/unsubscribe', { title: req.t('campaigns.unsubscribe.title'), token, ...state });
  });
  return router;
}
