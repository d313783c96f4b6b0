import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../app-context';
import { validate } from '../../../http/validate';
import { validateLink, LinkGone } from '../../../http/links';
import { createLimiter } from '../../../http/rate-limit';
import { checkLink, linkTokenParams, REREGISTER_NEXT } from '../links/service';
import { loadLanding, openLanding, reregister, attachProvenAddress, type Landing, type FieldError } from './service';
import type { FieldErrors } from '../../../http/field-errors';

const registerSchema = z.object({
  username: z.string().max(200).default(''),
  display_name: z.string().max(200).default(''),
  password: z.string().max(4096).default(''),
  terms: z.literal('yes', { message: 'reregister.errors.terms' }),
});

const attachSchema = z.object({ login: z.string().trim().min(1).max(254), password: z.string().min(1).max(4096) });

/** The service's one message per field, in the shared field-error shape. */
function asFieldErrors(errors: Partial<Record<string, FieldError>>): FieldErrors {
  return Object.fromEntries(Object.entries(errors).flatMap(([f, e]) => (e ? [[f, [e]]] : [])));
}

interface View {
  values: { username: string; display_name: string; login: string };
  errors: FieldErrors;
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
    errors,
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

  /** The link's landing, or 410 (src/http/links.ts) for a forged or expired link or one whose recipient is gone. */
  async function landingOrGone(req: Request, open: boolean): Promise<Landing> {
    const claims = checkLink(ctx.config, 'r', String(req.params.token));
    const landing = claims ? await (open ? openLanding : loadLanding)(ctx.knex, ctx.config, claims) : null;
    if (!landing) throw new LinkGone(REREGISTER_NEXT);
    return landing;
  }

  // A malformed token is refused (400, "this link is incomplete") before it reaches the rate limiter's key or the signature check.
  const linkToken = validateLink({ params: linkTokenParams }, REREGISTER_NEXT);
  router.get('/r/:token', linkToken, async (req, res) => {
    render(req, res, String(req.params.token), await landingOrGone(req, true));
  });

  const typed = (req: Request) => ({ username: String(req.body?.username ?? '').slice(0, 200), display_name: String(req.body?.display_name ?? '').slice(0, 200), login: '' });
  const registerForm = validate(
    { body: registerSchema },
    {
      fallbackKey: 'reregister.errors.too_long',
      onInvalid: async (req, res, errors) => {
        const landing = await landingOrGone(req, false);
        render(req, res, String(req.params.token), landing, { values: typed(req), errors }, 422);
      },
    },
  );
  router.post('/r/:token/register', linkToken, perIp, perLink, registerForm, async (req, res) => {
    const token = String(req.params.token);
    const landing = await landingOrGone(req, false);
    const values = typed(req);
    const result = await reregister(ctx.knex, ctx.config, landing, registerForm.of(req).body);
    if (result.kind === 'created') {
      return res.render('campaigns/reregistered', { title: req.t('reregister.done.title'), displayId: result.displayId, email: landing.email, loginUrl: new URL('/login/', `${ctx.config.TOYBOX_URL}/`).toString() });
    }
    if (result.kind === 'registered') return render(req, res, token, { ...landing, registered: true }, { values }, 409);
    if (result.kind === 'unavailable') {
      req.log.warn({ campaign: landing.campaignId }, 'TOYBOX register API unavailable; offering its own sign-up page');
      return render(req, res, token, landing, { values, unavailable: true }, 503);
    }
    return render(req, res, token, landing, { values, errors: asFieldErrors(result.errors) }, 422);
  });

  const attachValues = (req: Request, landing: Landing) => ({ username: landing.suggestedId ?? '', display_name: '', login: String(req.body?.login ?? '').slice(0, 254) });
  // The sign-in box is one small form: what is missing is said once above it, not per field.
  const attachForm = validate(
    { body: attachSchema },
    {
      onInvalid: async (req, res) => {
        const landing = await landingOrGone(req, false);
        render(req, res, String(req.params.token), landing, { values: attachValues(req, landing), attachError: req.t('reregister.attach.missing') }, 422);
      },
    },
  );
  router.post('/r/:token/attach', linkToken, perIp, perLink, attachForm, async (req, res) => {
    const token = String(req.params.token);
    const landing = await landingOrGone(req, false);
    const values = attachValues(req, landing);
    const { login, password } = attachForm.of(req).body;
    const result = await attachProvenAddress(ctx.knex, landing, login, password);
    if (result.kind === 'attached') {
      return res.render('campaigns/address-attached', { title: req.t('reregister.attach.done_title'), displayId: result.displayId, email: landing.email });
    }
    const status = result.kind === 'bad_credentials' ? 401 : 409;
    return render(req, res, token, landing, { values, attachError: req.t(`reregister.attach.${result.kind}`) }, status);
  });

  return router;
}
