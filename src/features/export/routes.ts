import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { requireUserOrExportLink, requireStaff } from '../../auth/guards';
import { toPortalUser } from '../../auth/user';
import { findUserById } from '../../toybox/users';
import { canSignIn } from '../../auth/user';
import { createLimiter } from '../../http/rate-limit';
import { HttpError } from '../../http/errors';
import { validate } from '../../http/validate';
import { validateLink, LinkGone } from '../../http/links';
import { fieldError, type FieldErrors } from '../../http/field-errors';
import { recordAudit, userActor } from '../../audit/service';
import { formatQuery, exportForm, linkRequestForm, downloadQuery, downloadParams, linkParams, staffForm } from './schema';
import * as service from './service';
import type { ExportFormat } from './archive';

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

  const exportBody = validate({ body: exportForm });
  router.post('/export', requireUserOrExportLink, perUser, exportBody, async (req, res) => {
    await serve(ctx, req, res, exportBody.of(req).body.format, req.user!, { counted: true, notifyEmail: req.user!.email });
  });

  const apiQuery = validate({ query: formatQuery }, { invalidKey: 'export.bad_format' });
  router.get('/api/me/export', requireUserOrExportLink, perUser, apiQuery, async (req, res) => {
    await serve(ctx, req, res, apiQuery.of(req).query.format, req.user!, { counted: true, notifyEmail: req.user!.email });
  });

  // Links from e-mails follow src/http/links.ts: out of shape 400, unknown/used/expired 410 with what to do next.
  const download = validateLink({ params: downloadParams, query: downloadQuery }, service.DOWNLOAD_NEXT);
  router.get('/export/download/:id', download, async (req, res) => {
    const { params, query } = download.of(req);
    const { job, subject } = await service.openSignedDownload(ctx, params.id, query.expires, query.sig);
    service.sendStoredExport(res, job, subject);
  });

  router.get('/export/link', (req, res) => {
    res.render('export/link-request', { title: req.t('export.link_title'), sent: false, errors: {}, email: '', headExtra });
  });

  const linkRequest = validate(
    { body: linkRequestForm },
    {
      onInvalid: (req, res, errors) =>
        res.status(422).render('export/link-request', { title: req.t('export.link_title'), sent: false, errors, email: typeof req.body?.email === 'string' ? req.body.email : '', headExtra }),
    },
  );
  router.post('/export/link', linkPerIp, linkRequest, async (req, res) => {
    await service.requestExportLoginLink(ctx, linkRequest.of(req).body.email, req.lang);
    res.render('export/link-request', { title: req.t('export.link_title'), sent: true, errors: {}, email: '', headExtra });
  });

  // The e-mailed link opens a page; only its POST uses the token up.
  const link = validateLink({ params: linkParams }, service.LOGIN_LINK_NEXT);
  router.get('/export/link/:token', link, async (req, res) => {
    const { token } = link.of(req).params;
    if (!(await service.loginLinkIsUsable(ctx, token))) throw new LinkGone(service.LOGIN_LINK_NEXT);
    res.render('export/link-confirm', { title: req.t('export.link_title'), usable: true, token, headExtra });
  });

  router.post('/export/link/:token', link, linkPerIp, async (req, res, next) => {
    const userId = await service.consumeExportLoginLink(ctx, link.of(req).params.token);
    const user = userId ? await findUserById(ctx.knex, userId) : undefined;
    if (!user || !canSignIn(user)) throw new LinkGone(service.LOGIN_LINK_NEXT);
    const portalUser = toPortalUser(user, 'export-only');
    req.login({ ...portalUser }, (err) => {
      if (err) return next(err);
      recordAudit(ctx.knex, userActor(portalUser), 'export.link_sign_in', `user:${user.id}`).catch(() => undefined);
      res.redirect(303, '/export');
    });
  });

  const staffPage = (req: Request, res: Response, status: number, errors: FieldErrors) =>
    res.status(status).render('export/admin', { title: req.t('export.staff_title'), errors, values: { user: String(req.body?.user ?? '') }, headExtra });
  router.get('/admin/export', requireStaff, (req, res) => staffPage(req, res, 200, {}));

  const staff = validate({ body: staffForm }, { onInvalid: (req, res, errors) => staffPage(req, res, 422, errors) });
  router.post('/admin/export', requireStaff, staff, async (req, res) => {
    const input = staff.of(req).body;
    const subject = await service.findSubject(ctx, input.user);
    if (subject === 'ambiguous') return staffPage(req, res, 422, fieldError('user', 'export.staff_ambiguous'));
    if (!subject) return staffPage(req, res, 422, fieldError('user', 'export.staff_not_found'));
    await serve(ctx, req, res, input.format, subject, { counted: false, notifyEmail: req.user!.email, audit: true });
  });

  return router;
}
