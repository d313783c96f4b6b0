import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../app-context';
import { validateLink, LinkGone, type LinkNext } from '../../http/links';
import { validate } from '../../http/validate';
import { fieldError, type FieldErrors } from '../../http/field-errors';
import { createLimiter } from '../../http/rate-limit';
import * as subscribers from './subscribers';

const HEAD_EXTRA = '<link rel="stylesheet" href="/static/css/notice.css">';
/** A dead confirmation link: subscribe again (a new link is mailed). */
const CONFIRM_NEXT: LinkNext = { href: '/status/subscribe', key: 'notice.subscribe.link_next_confirm' };
/** A dead unsubscribe link: the subscription no longer exists, so nothing is mailed; the status page stays open. */
const UNSUBSCRIBE_NEXT: LinkNext = { href: '/status', key: 'notice.subscribe.link_next_unsubscribe' };
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
  // Dead links follow src/http/links.ts: 410 with what to do next (subscribe again / the status page).
  const confirmGone = () => new LinkGone(CONFIRM_NEXT);
  const unsubscribeGone = () => new LinkGone(UNSUBSCRIBE_NEXT);

  const confirmToken = validateLink({ params: z.object({ token: z.string().regex(subscribers.CONFIRM_TOKEN) }) }, CONFIRM_NEXT);
  const unsubscribeToken = validateLink({ params: z.object({ token: z.string().regex(subscribers.UNSUBSCRIBE_TOKEN) }) }, UNSUBSCRIBE_NEXT);
  router.get('/status/subscribe/confirm/:token', confirmToken, async (req, res) => {
    const s = await subscribers.checkConfirmLink(ctx, confirmToken.of(req).params.token);
    if (!s) throw confirmGone();
    page(req, res, { heading: req.t('notice.subscribe.confirm_title'), messages: [req.t('notice.subscribe.confirm_text', { email: s.email })], formAction: req.originalUrl.split('?')[0], button: req.t('notice.subscribe.confirm_button') });
  });

  router.post('/status/subscribe/confirm/:token', confirmToken, form, async (req, res) => {
    if (!(await subscribers.confirmSubscription(ctx, confirmToken.of(req).params.token))) throw confirmGone();
    page(req, res, { heading: req.t('notice.subscribe.confirmed_title'), messages: [req.t('notice.subscribe.confirmed')] });
  });

  router.get('/status/unsubscribe/:token', unsubscribeToken, async (req, res) => {
    const s = await subscribers.checkUnsubscribeLink(ctx, unsubscribeToken.of(req).params.token);
    if (!s) throw unsubscribeGone();
    if (s.unsubscribed_at) return page(req, res, { heading: req.t('notice.subscribe.unsubscribed_title'), messages: [req.t('notice.subscribe.unsubscribed', { email: s.email })] });
    page(req, res, { heading: req.t('notice.subscribe.unsubscribe_title'), messages: [req.t('notice.subscribe.unsubscribe_text', { email: s.email })], formAction: req.originalUrl.split('?')[0], button: req.t('notice.subscribe.unsubscribe_button'), danger: true });
  });

  router.post('/status/unsubscribe/:token', unsubscribeToken, form, async (req, res) => {
    const s = await subscribers.unsubscribe(ctx, unsubscribeToken.of(req).params.token);
    if (!s) throw unsubscribeGone();
    page(req, res, { heading: req.t('notice.subscribe.unsubscribed_title'), messages: [req.t('notice.subscribe.unsubscribed', { email: s.email })] });
  });

  return router;
}
