import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { requireUserOrExportLink, requireStaff } from '../../auth/guards';
import { toPortalUser } from '../../auth/user';
import { findUserById } from '../../toybox/users';
import { canSignIn } from '../../auth/user';
import { createLimiter } from '../../http/rate-limit';
import { HttpError, Invalid, NotFound } from '../../http/errors';
import { recordAudit, userActor } from '../../audit/service';
import { formatQuery, exportForm, linkRequestForm, downloadQuery, staffForm } from './schema';
import * as service from './service';
import type { ExportFormat } from './archive';

function fieldErrors(issues: Array<{ path: PropertyKey[]; message: string }>) {
  return issues.map((i) => ({ field: String(i.path[0] ?? ''), message: i.message }));
}

/** Carries Retry-After from a cooldown refusal before the error handler answers. */
function withRetryAfter(res: Response, err: unknown): never {
  if (err instanceof HttpError && err.status === 429 && typeof err.vars.retryAfter === 'number') {
    res.setHeader('Retry-After', String(Math.max(1, err.vars.retryAfter)));
  }
  throw err;
}

async function serve(ctx: AppContext, req: Request, res: Response, format: ExportFormat, subject: { id: number; display_id: string }, opts: { counted: boolean; notifyEmail: string | null; audit?: boolean }) {
  const decision = await service
    .requestExport(ctx, {
      subject,
      format,
      lang: req.lang,
      requestedBy: userActor(req.user!),
      counted: opts.counted,
      notifyEmail: opts.notifyEmail,
      audit: opts.audit
        ? (trx, job) => recordAudit(trx, userActor(req.user!), 'export.staff', `user:${subject.id}`, { format, job: job.id, mode: job.mode })
        : undefined,
    })
    .catch((err: unknown) => withRetryAfter(res, err));
  if (decision.action === 'reuse') return service.sendStoredExport(res, decision.job, subject);
  if (decision.action === 'stream') return service.streamExport(ctx, decision.job, subject, res);
  const message = req.t(`export.queued_${decision.reason}`, { days: service.LINK_DAYS });
  if (req.path.startsWith('/api/')) {
    return res.status(202).json({ status: 'queued', job: decision.job.id, message, email: service.isRealEmail(opts.notifyEmail) });
  }
  return res.status(202).render('export/queued', { title: req.t('export.title'), message, emailed: service.isRealEmail(opts.notifyEmail) });
}

export function exportRoutes(ctx: AppContext): Router {
  const router = Router();
  const perUser = createLimiter(ctx.knex, {
    name: 'export',
    windowMs: 10 * 60_000,
    limit: 10,
    key: (req) => (req.user ? `user:${req.user.id}` : undefined),
  });
  const linkPerIp = createLimiter(ctx.knex, { name: 'export-link', windowMs: 15 * 60_000, limit: 5 });
  const headExtra = '<link rel="stylesheet" href="/static/css/export.css">';

  router.get(
    '/export',
    (req, res, next) => (req.user ? next() : res.render('export/signed-out', { title: req.t('export.title'), headExtra })),
    requireUserOrExportLink,
    async (req, res) => {
      const overview = await service.describeExport(ctx, req.user!.id, req.lang);
      res.render('export/index', { title: req.t('export.title'), overview, exportOnly: req.user!.scope === 'export-only', headExtra });
    },
  );

  router.post('/export', requireUserOrExportLink, perUser, async (req, res) => {
    const parsed = exportForm.safeParse(req.body);
    if (!parsed.success) throw Invalid(fieldErrors(parsed.error.issues));
    await serve(ctx, req, res, parsed.data.format, req.user!, { counted: true, notifyEmail: req.user!.email });
  });

  router.get('/api/me/export', requireUserOrExportLink, perUser, async (req, res) => {
    const parsed = formatQuery.safeParse(req.query);
    if (!parsed.success) throw Invalid(fieldErrors(parsed.error.issues), 'export.bad_format');
    await serve(ctx, req, res, parsed.data.format, req.user!, { counted: true, notifyEmail: req.user!.email });
  });

  router.get('/export/download/:id', async (req, res) => {
    const parsed = downloadQuery.safeParse(req.query);
    if (!parsed.success) throw NotFound('export.link_invalid');
    try {
      const { job, subject } = await service.openSignedDownload(ctx, String(req.params.id), parsed.data.expires, parsed.data.sig);
      service.sendStoredExport(res, job, subject);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 410) throw err;
      res.status(410).render('export/gone', { title: req.t('export.link_gone_heading'), message: req.t(err.messageKey), headExtra });
    }
  });

  router.get('/export/link', (req, res) => {
    res.render('export/link-request', { title: req.t('export.link_title'), sent: false, errors: [], email: '', headExtra });
  });

  router.post('/export/link', linkPerIp, async (req, res) => {
    const parsed = linkRequestForm.safeParse(req.body);
    if (!parsed.success) {
      return res.status(422).render('export/link-request', {
        title: req.t('export.link_title'),
        sent: false,
        errors: [req.t('export.link_bad_email')],
        email: typeof req.body?.email === 'string' ? req.body.email : '',
        headExtra,
      });
    }
    await service.requestExportLoginLink(ctx, parsed.data.email, req.lang);
    res.render('export/link-request', { title: req.t('export.link_title'), sent: true, errors: [], email: '', headExtra });
  });

  // The e-mailed link opens a page; only its POST uses the token up.
  router.get('/export/link/:token', async (req, res) => {
    const usable = await service.loginLinkIsUsable(ctx, String(req.params.token));
    res.status(usable ? 200 : 410).render('export/link-confirm', { title: req.t('export.link_title'), usable, token: String(req.params.token), headExtra });
  });

  router.post('/export/link/:token', linkPerIp, async (req, res, next) => {
    const userId = await service.consumeExportLoginLink(ctx, String(req.params.token));
    const user = userId ? await findUserById(ctx.knex, userId) : undefined;
    if (!user || !canSignIn(user)) {
      return res.status(410).render('export/link-confirm', { title: req.t('export.link_title'), usable: false, token: '', headExtra });
    }
    const portalUser = toPortalUser(user, 'export-only');
    req.login({ ...portalUser }, (err) => {
      if (err) return next(err);
      recordAudit(ctx.knex, userActor(portalUser), 'export.link_sign_in', `user:${user.id}`).catch(() => undefined);
      res.redirect(303, '/export');
    });
  });

  router.get('/admin/export', requireStaff, (req, res) => {
    res.render('export/admin', { title: req.t('export.staff_title'), errors: [], values: { user: '' }, headExtra });
  });

  router.post('/admin/export', requireStaff, async (req, res) => {
    const parsed = staffForm.safeParse(req.body);
    const fail = (message: string) =>
      res.status(422).render('export/admin', { title: req.t('export.staff_title'), errors: [message], values: { user: String(req.body?.user ?? '') }, headExtra });
    if (!parsed.success) return fail(req.t('export.staff_user_required'));
    const subject = await service.findSubject(ctx, parsed.data.user);
    if (subject === 'ambiguous') return fail(req.t('export.staff_ambiguous'));
    if (!subject) return fail(req.t('export.staff_not_found'));
    await serve(ctx, req, res, parsed.data.format, subject, { counted: false, notifyEmail: req.user!.email, audit: true });
  });

  return router;
}
