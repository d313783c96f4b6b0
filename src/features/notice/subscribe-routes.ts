import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../app-context';
import { tokenParams } from '../../http/params';
import { validate } from '../../http/validate';
import { fieldError, type FieldErrors } from '../../http/field-errors';
import { createLimiter } from '../../http/rate-limit';
import * as subscribers from './subscribers';

const HEAD_EXTRA = '<link rel="stylesheet" href="/static/css/notice.css">';
const subscribeSchema = z.object({ email: z.string().trim().max(320).default(''), lang: z.enum(['ja', 'en']).optional() });

/** The sign-up form (after sessions: it carries a CSRF token), rate-limited per client. */
export function subscribeRoutes(ctx: AppContext): Router {
  const router = Router();
  const limiter = createLimiter(ctx.knex, { name: 'notice-subscribe', windowMs: 15 * 60_000, limit: 10 });
  const form = (req: Request, res: Response, email = '', errors: FieldErrors = {}, status = 200) =>
    res.status(status).render('notice/subscribe', { title: req.t('notice.subscribe.title'), headExtra: HEAD_EXTRA, email, errors, feedUrl: `${ctx.config.PUBLIC_URL}/status.atom` });

  router.get('/status/subscribe', (req, res) => form(req, res));

  const subscribe = validate(
    { body: subscribeSchema },
    { fallbackKey: 'notice.subscribe.bad_email', onInvalid: (req, res, errors) => form(req, res, typeof req.body?.email === 'string' ? req.body.email.slice(0, 320) : '', errors, 422) },
  );
  router.post('/status/subscribe', limiter, subscribe, async (req, res) => {
    const { email, lang } = subscribe.of(req).body;
    // The address is checked (and normalised) by the service, as on import: its refusal goes beside the field.
    const result = await subscribers.requestSubscription(ctx, email, lang ?? req.lang);
    if (!result.ok) return form(req, res, email, fieldError('email', result.error), 422);
    res.render('notice/subscription-message', { title: req.t('notice.subscribe.sent_title'), headExtra: HEAD_EXTRA, heading: req.t('notice.subscribe.sent_title'), messages: [req.t('notice.subscribe.sent', { email })] });
  });

  return router;
}

/** Public page without a session (the layout's signed-in bits stay empty). */
function page(req: Request, res: Response, locals: { heading: string; messages: string[]; formAction?: string; button?: string; danger?: boolean }, status = 200) {
  res.locals.user = null;
  res.locals.csrfToken = () => '';
  res.set('Cache-Control', 'no-store');
  res.status(status).render('notice/subscription-message', { title: locals.heading, headExtra: HEAD_EXTRA, ...locals });
}

/**
 * Links from e-mails, before sessions: the signed token is the authority. A
 * GET only shows a page with a button; the POST acts. The unsubscribe POST
 * is also RFC 8058's one-click target (mail clients post without cookies).
 */
export function subscriptionLinkRoutes(ctx: AppContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const invalid = (req: Request, res: Response) => page(req, res, { heading: req.t('notice.subscribe.link_invalid_title'), messages: [req.t('notice.subscribe.link_invalid')] }, 404);

  const linkToken = validate({ params: tokenParams });
  router.get('/status/subscribe/confirm/:token', linkToken, async (req, res) => {
    const s = await subscribers.checkConfirmLink(ctx, linkToken.of(req).params.token);
    if (!s) return invalid(req, res);
    page(req, res, { heading: req.t('notice.subscribe.confirm_title'), messages: [req.t('notice.subscribe.confirm_text', { email: s.email })], formAction: req.originalUrl.split('?')[0], button: req.t('notice.subscribe.confirm_button') });
  });

  router.post('/status/subscribe/confirm/:token', linkToken, form, async (req, res) => {
    if (!(await subscribers.confirmSubscription(ctx, linkToken.of(req).params.token))) return invalid(req, res);
    page(req, res, { heading: req.t('notice.subscribe.confirmed_title'), messages: [req.t('notice.subscribe.confirmed')] });
  });

  router.get('/status/unsubscribe/:token', linkToken, async (req, res) => {
    const s = await subscribers.checkUnsubscribeLink(ctx, linkToken.of(req).params.token);
    if (!s) return invalid(req, res);
    if (s.unsubscribed_at) return page(req, res, { heading: req.t('notice.subscribe.unsubscribed_title'), messages: [req.t('notice.subscribe.unsubscribed', { email: s.email })] });
    page(req, res, { heading: req.t('notice.subscribe.unsubscribe_title'), messages: [req.t('notice.subscribe.unsubscribe_text', { email: s.email })], formAction: req.originalUrl.split('?')[0], button: req.t('notice.subscribe.unsubscribe_button'), danger: true });
  });

  router.post('/status/unsubscribe/:token', linkToken, form, async (req, res) => {
    const s = await subscribers.unsubscribe(ctx, linkToken.of(req).params.token);
    if (!s) return invalid(req, res);
    page(req, res, { heading: req.t('notice.subscribe.unsubscribed_title'), messages: [req.t('notice.subscribe.unsubscribed', { email: s.email })] });
  });

  return router;
}
