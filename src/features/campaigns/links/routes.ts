import { Router } from 'express';
import type { AppContext } from '../../../app-context';
import { validateLink, LinkGone } from '../../../http/links';
import { checkLink, unsubscribeState, linkTokenParams, UNSUBSCRIBE_NEXT } from './service';

/** The unsubscribe link's page. A GET never unsubscribes (mail scanners follow links): it shows the button that POSTs. */
export function unsubscribePageRoutes(ctx: AppContext): Router {
  const router = Router();
  // src/http/links.ts: a token out of shape 400; forged, expired or naming no recipient 410 with what to do next.
  const linkToken = validateLink({ params: linkTokenParams }, UNSUBSCRIBE_NEXT);
  router.get('/u/:token', linkToken, async (req, res) => {
    const { token } = linkToken.of(req).params;
    const claims = checkLink(ctx.config, 'u', token);
    const state = claims ? await unsubscribeState(ctx.knex, claims) : null;
    if (!state) throw new LinkGone(UNSUBSCRIBE_NEXT);
    return res.render('campaigns/unsubscribe', { title: req.t('campaigns.unsubscribe.title'), token, ...state });
  });
  return router;
}
