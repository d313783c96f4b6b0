import { Router } from 'express';
import type { AppContext } from '../app-context';
import { requireUser } from '../auth/guards';

/** The public explanation of the incident, and each signed-in user's own page. */
export function pageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/', (req, res) => {
    res.render('home/index', { title: req.t('home.title'), signupUrl: `${ctx.config.TOYBOX_URL}/signup` });
  });
  router.get('/account', requireUser, (req, res) => {
    res.render('home/account', { title: req.t('account.title') });
  });
  return router;
}
