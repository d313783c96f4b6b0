import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../app-context';
import { tokenParams } from '../../http/params';
import { validate } from '../../http/validate';
import { createLimiter } from '../../http/rate-limit';
import { checkLink } from './links-service';
import { loadLanding, openLanding, reregister, attachProvenAddress, type Landing, type FieldError } from './reregister-service';

const registerSchema = z.object({
  username: z.string().max(200).default(''),
  display_name: z.string().max(200).default(''),
  password: z.string().max(4096).default(''),
  terms: z.literal('yes', { message: 'reregister.errors.terms' }),
});

const attachSchema = z.object({ login: z.string().trim().min(1).max(254), password: z.string().min(1).max(4096) });

type Errors = Record<string, FieldError>;

interface View {
  values: { username: string; display_name: string; login: string };
  errors: Errors;
  attachError: string | null;
  unavailable: boolean;
}

function render(req: Request, res: Response, token: string, landing: Landing, view: Partial<View> = {}, status = 200) {
  const errors = view.errors ?? {};
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).render('campaigns/landing', {
    title: req.t('campaigns.landing.title'),
    headExtra: '<link rel="stylesheet" href="/static/css/campaigns.css">',
    token,
    ...landing,
    values: view.values ?? { username: landing.suggestedId ?? '', display_name: '', login: '' },
    // Messages in the reader's language, beside their fields.
    errors: Object.fromEntries(Object.entries(errors).map(([f, e]) => [f, req.t(e.key, e.vars)])),
    attachError: view.attachError ?? null,
    unavailable: view.unavailable ?? false,
  });
}

/**
 * The personal link's landing: a re-registration form that registers through
 * TOYBOX's own API with the address the link proved, and, for people who
 * already re-registered on TOYBOX with a placeholder, a sign-in that attaches it.
 */
export function reregisterRoutes(ctx: AppContext): Router {
  const router = Router();
  const QUARTER = 15 * 60 * 1000;
  const perIp = createLimiter(ctx.knex, { name: 'reregister-ip', windowMs: QUARTER, limit: 30 });
  const perLink = createLimiter(ctx.knex, { name: 'reregister-link', windowMs: QUARTER, limit: 10, key: (req) => `link:${String(req.params.token).slice(-22)}` });

  async function landingOr404(req: Request, res: Response, open: boolean): Promise<Landing | null> {
    const claims = checkLink(ctx.config, 'r', String(req.params.token));
    const landing = claims ? await (open ? openLanding : loadLanding)(ctx.knex, ctx.config, claims) : null;
    if (!landing) res.status(claims ? 404 : 400).render('campaigns/link-invalid', { title: req.t('campaigns.link.invalid_title') });
    return landing;
  }

  // A malformed token is refused (404) before it reaches the rate limiter's key or the signature check.
  const linkToken = validate({ params: tokenParams });
  router.get('/r/:token', linkToken, async (req, res) => {
    const landing = await landingOr404(req, res, true);
    if (landing) render(req, res, String(req.params.token), landing);
  });

  router.post('/r/:token/register', linkToken, perIp, perLink, async (req, res) => {
    const token = String(req.params.token);
    const landing = await landingOr404(req, res, false);
    if (!landing) return;
    const values = { username: String(req.body?.username ?? '').slice(0, 200), display_name: String(req.body?.display_name ?? '').slice(0, 200), login: '' };
    const parsed = registerSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const errors: Errors = {};
      for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= { key: issue.message.startsWith('reregister.') ? issue.message : 'reregister.errors.too_long', vars: { n: 200 } };
      return render(req, res, token, landing, { values, errors }, 422);
    }
    const result = await reregister(ctx.knex, ctx.config, landing, parsed.data);
    if (result.kind === 'created') {
      return res.render('campaigns/reregistered', { title: req.t('reregister.done.title'), displayId: result.displayId, email: landing.email, loginUrl: new URL('/login/', `${ctx.config.TOYBOX_URL}/`).toString() });
    }
    if (result.kind === 'registered') return render(req, res, token, { ...landing, registered: true }, { values }, 409);
    if (result.kind === 'unavailable') {
      req.log.warn({ campaign: landing.campaignId }, 'TOYBOX register API unavailable; offering its own sign-up page');
      return render(req, res, token, landing, { values, unavailable: true }, 503);
    }
    return render(req, res, token, landing, { values, errors: result.errors as Errors }, 422);
  });

  router.post('/r/:token/attach', linkToken, perIp, perLink, async (req, res) => {
    const token = String(req.params.token);
    const landing = await landingOr404(req, res, false);
    if (!landing) return;
    const values = { username: landing.suggestedId ?? '', display_name: '', login: String(req.body?.login ?? '').slice(0, 254) };
    const parsed = attachSchema.safeParse(req.body ?? {});
    if (!parsed.success) return render(req, res, token, landing, { values, attachError: req.t('reregister.attach.missing') }, 422);
    const result = await attachProvenAddress(ctx.knex, landing, parsed.data.login, parsed.data.password);
    if (result.kind === 'attached') {
      return res.render('campaigns/address-attached', { title: req.t('reregister.attach.done_title'), displayId: result.displayId, email: landing.email });
    }
    const status = result.kind === 'bad_credentials' ? 401 : 409;
    return render(req, res, token, landing, { values, attachError: req.t(`reregister.attach.${result.kind}`) }, status);
  });

  return router;
}
