import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../../app-context';
import { requireStaff } from '../../../auth/guards';
import { userActor } from '../../../audit/service';
import { NotFound, Conflict } from '../../../http/errors';
import { blockSchema, campaignFormSchema, scheduleSchema } from '../schema';
import { progressDisplay } from './progress-view';
import {
  createCampaign,
  updateDraft,
  getCampaign,
  startSending,
  pauseCampaign,
  resumeCampaign,
  cancelCampaign,
  retryFailed,
  scheduleCampaign,
  campaignProgress,
  listCampaignsWithCounts,
  CampaignInvalid,
  CampaignStateError,
} from './service';
import type { Campaign } from './repo';
import { countKnownAddresses } from '../addresses/service';
import { blockAddress, countSuppressions } from '../addresses/suppressions';
import { previewMessage } from '../sending/preview';
import { kickCampaign } from '../sending/jobs';
import { streamRecipientsCsv } from './recipients-csv';
import { TEMPLATE_VARIABLES } from './template';
import { SANDBOXED_HTML_CSP } from '../../../http/html';
import { idParam as sharedIdParam, idParams, parseParam } from '../../../http/params';
import { addFieldError, type FieldErrors } from '../../../http/field-errors';
import { validate } from '../../../http/validate';

const HEAD = '<link rel="stylesheet" href="/static/css/campaigns.css"><script src="/static/js/campaigns.js" defer></script>';

function idParam(req: Request): number {
  return parseParam(sharedIdParam, req.params.id, 'campaigns.not_found');
}

async function loadCampaign(ctx: AppContext, req: Request): Promise<Campaign> {
  const c = await getCampaign(ctx.knex, idParam(req));
  if (!c) throw NotFound('campaigns.not_found');
  return c;
}


function formValues(c?: Partial<Campaign>) {
  return {
    name: c?.name ?? '',
    subject_ja: c?.subject_ja ?? '',
    text_ja: c?.text_ja ?? '',
    html_ja: c?.html_ja ?? '',
    subject_en: c?.subject_en ?? '',
    text_en: c?.text_en ?? '',
    html_en: c?.html_en ?? '',
    rate_per_minute: c?.rate_per_minute ?? 60,
    concurrency: c?.concurrency ?? 2,
    pause_after_failures: c?.pause_after_failures ?? 10,
  };
}

/** Template problems the service found, each beside its field (the first per field). */
function templateErrors(err: CampaignInvalid): FieldErrors {
  const errors: FieldErrors = {};
  const variables = TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ');
  for (const e of err.errors) {
    const field = `${e.field}_${e.lang}`;
    if (!errors[field]) addFieldError(errors, field, `campaigns.template_error.${e.code}`, { detail: e.detail ?? '', variables });
  }
  return errors;
}

function renderForm(req: Request, res: Response, locals: { campaign?: Campaign; values: ReturnType<typeof formValues>; errors: FieldErrors }, status = 200) {
  res.status(status).render('campaigns/form', {
    title: req.t(locals.campaign ? 'campaigns.form.edit_title' : 'campaigns.form.new_title'),
    headExtra: HEAD,
    variables: TEMPLATE_VARIABLES,
    campaign: null,
    ...locals,
  });
}

/** A campaign's admin pages, from draft to completed: list, form, progress, state changes, schedule, preview, recipients CSV. */
export function campaignAdminRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderIndex = async (req: Request, res: Response, notice: string | null, errors: FieldErrors = {}, status = 200) => {
    res.status(status).render('campaigns/index', {
      title: req.t('campaigns.index.title'),
      headExtra: HEAD,
      campaigns: await listCampaignsWithCounts(ctx.knex),
      addresses: await countKnownAddresses(ctx.knex),
      suppressions: await countSuppressions(ctx.knex),
      capturedMail: ctx.mailer.kind === 'outbox', // no SMTP_URL: a link to the captured-mail viewer
      notice,
      errors,
    });
  };

  router.get('/admin/campaigns', requireStaff, async (req, res) => {
    await renderIndex(req, res, req.query.notice === 'blocked' ? 'blocked' : null);
  });

  // The block box on the list page: the address joins the suppression list by hand.
  const blockForm = validate({ body: blockSchema }, { onInvalid: (req, res, errors) => renderIndex(req, res, null, errors, 422) });
  router.post('/admin/campaigns/suppressions', requireStaff, blockForm, async (req, res) => {
    const { email } = blockForm.of(req).body;
    await blockAddress(ctx.knex, email, `blocked by ${userActor(req.user!)}`, userActor(req.user!));
    return res.redirect(303, `/admin/campaigns?notice=blocked`);
  });

  router.get('/admin/campaigns/new', requireStaff, (req, res) => renderForm(req, res, { values: formValues(), errors: {} }));

  const createForm = validate(
    { body: campaignFormSchema },
    { fallbackKey: 'campaigns.form.invalid', onInvalid: (req, res, errors) => renderForm(req, res, { values: { ...formValues(), ...req.body }, errors }, 422) },
  );
  router.post('/admin/campaigns', requireStaff, createForm, async (req, res) => {
    const data = createForm.of(req).body;
    try {
      const { id } = await createCampaign(ctx.knex, data, userActor(req.user!));
      return res.redirect(303, `/admin/campaigns/${id}`);
    } catch (err) {
      if (err instanceof CampaignInvalid) return renderForm(req, res, { values: { ...formValues(), ...req.body }, errors: templateErrors(err) }, 422);
      throw err;
    }
  });

  const renderShow = async (req: Request, res: Response, c: Campaign, errors: FieldErrors = {}, status = 200) => {
    const progress = await campaignProgress(ctx.knex, c);
    res.status(status).render('campaigns/show', {
      errors,
      display: progressDisplay(progress, req.t),
      title: c.name,
      headExtra: HEAD + (progress.status === 'sending' ? '<noscript><meta http-equiv="refresh" content="5"></noscript>' : ''),
      campaign: c,
      progress,
      notice: typeof req.query.notice === 'string' ? req.query.notice : null,
      userEmail: req.user!.email,
    });
  };

  router.get('/admin/campaigns/:id', requireStaff, async (req, res) => renderShow(req, res, await loadCampaign(ctx, req)));

  router.get('/admin/campaigns/:id/progress.json', requireStaff, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    res.setHeader('Cache-Control', 'no-store');
    const progress = await campaignProgress(ctx.knex, c);
    res.json({ ...progress, display: progressDisplay(progress, req.t) });
  });

  router.get('/admin/campaigns/:id/edit', requireStaff, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    if (c.status !== 'draft') throw Conflict('campaigns.errors.not_draft');
    renderForm(req, res, { campaign: c, values: formValues(c), errors: {} });
  });

  const editForm = validate(
    { params: idParams, body: campaignFormSchema },
    {
      notFoundKey: 'campaigns.not_found',
      fallbackKey: 'campaigns.form.invalid',
      onInvalid: async (req, res, errors) => {
        const c = await loadCampaign(ctx, req);
        renderForm(req, res, { campaign: c, values: { ...formValues(c), ...req.body }, errors }, 422);
      },
    },
  );
  router.post('/admin/campaigns/:id/edit', requireStaff, editForm, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    const data = editForm.of(req).body;
    try {
      await updateDraft(ctx.knex, c.id, data, userActor(req.user!));
    } catch (err) {
      if (err instanceof CampaignInvalid) return renderForm(req, res, { campaign: c, values: { ...formValues(c), ...req.body }, errors: templateErrors(err) }, 422);
      if (err instanceof CampaignStateError) throw Conflict('campaigns.errors.not_draft');
      throw err;
    }
    return res.redirect(303, `/admin/campaigns/${c.id}`);
  });

  router.get('/admin/campaigns/:id/preview', requireStaff, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    const lang = req.query.lang === 'en' ? 'en' : 'ja';
    const preview = await previewMessage(ctx, c, lang);
    res.render('campaigns/preview', { title: req.t('campaigns.preview.title'), headExtra: HEAD, campaign: c, previewLang: lang, preview });
  });

  // The HTML part alone, for the preview's iframe: sandboxed, no scripts, nothing from elsewhere.
  router.get('/admin/campaigns/:id/preview.html', requireStaff, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    const preview = await previewMessage(ctx, c, req.query.lang === 'en' ? 'en' : 'ja');
    res.setHeader('Content-Security-Policy', SANDBOXED_HTML_CSP);
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    res.type('html').send(preview.html);
  });

  // POST /admin/campaigns/:id/test-send: sending/test-send-routes.ts (a list of addresses, capped and rate-limited)

  // A time that cannot be read is said beside the box, on the campaign's page.
  const scheduleForm = validate(
    { params: idParams, body: scheduleSchema },
    { notFoundKey: 'campaigns.not_found', onInvalid: async (req, res, errors) => renderShow(req, res, await loadCampaign(ctx, req), errors, 422) },
  );
  router.post('/admin/campaigns/:id/schedule', requireStaff, scheduleForm, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    const { at } = scheduleForm.of(req).body;
    try {
      await scheduleCampaign(ctx.knex, c.id, at, userActor(req.user!));
    } catch (err) {
      if (err instanceof CampaignStateError) throw Conflict('campaigns.errors.bad_state', { status: req.t(`campaigns.status.${err.status}`) });
      throw err;
    }
    return res.redirect(303, `/admin/campaigns/${c.id}?notice=schedule`);
  });

  const actions: Record<string, (id: number, actor: string) => Promise<unknown>> = {
    send: async (id, actor) => {
      await startSending(ctx.knex, id, actor);
      await kickCampaign(ctx, id);
    },
    pause: (id, actor) => pauseCampaign(ctx.knex, id, actor),
    resume: async (id, actor) => {
      await resumeCampaign(ctx.knex, id, actor);
      await kickCampaign(ctx, id);
    },
    cancel: (id, actor) => cancelCampaign(ctx.knex, id, actor),
    'retry-failed': async (id, actor) => {
      await retryFailed(ctx.knex, id, actor);
      await kickCampaign(ctx, id);
    },
  };
  router.post('/admin/campaigns/:id/:action', requireStaff, async (req, res, next) => {
    const action = actions[String(req.params.action)];
    if (!action) return next();
    const c = await loadCampaign(ctx, req);
    try {
      await action(c.id, userActor(req.user!));
    } catch (err) {
      if (err instanceof CampaignStateError) throw Conflict('campaigns.errors.bad_state', { status: req.t(`campaigns.status.${err.status}`) });
      throw err;
    }
    return res.redirect(303, `/admin/campaigns/${c.id}?notice=${req.params.action}`);
  });

  router.get('/admin/campaigns/:id/recipients.csv', requireStaff, async (req, res) => {
    const c = await loadCampaign(ctx, req);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="campaign-${c.id}-recipients.csv"`);
    await streamRecipientsCsv(ctx.knex, c.id, res);
  });

  return router;
}
