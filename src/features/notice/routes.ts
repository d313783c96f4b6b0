import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { userActor, listAudit } from '../../audit/service';
import { z } from 'zod';
import { validate } from '../../http/validate';
import { prefixFieldErrors } from '../../http/field-errors';
import { INCIDENT_STATES, MAINTENANCE_STATES, statesFor, type NoticeRow } from './model';
import { noticeForm, updateForm, idParam, type FieldErrors, type NoticeInput } from './schema';
import * as service from './service';
import { bannerFragment } from './bundle';
import { renderMarkdown } from './markdown';
import { formatJst, toTokyoInput } from '../../i18n/tokyo-time';
import { runtimeFor } from './runtime';
import { confirmed, renderConfirm } from './confirm';
import { closedStateFor } from './model';

const HEAD_EXTRA = '<link rel="stylesheet" href="/static/css/notice.css"><link rel="stylesheet" href="/static/css/notice-banner.css">';

function actorOf(req: Request): service.Actor {
  return { label: userActor(req.user!), userId: req.user!.id };
}

/** `/admin/notices/:id...`: a malformed id is a 404 "no such notice", like an unknown one. */
const byId = validate({ params: z.object({ id: idParam }) }, { notFoundKey: 'notice.errors.not_found' });
const noticeId = (req: Request): number => byId.of(req).params.id;

function formValues(n?: NoticeRow | Record<string, unknown>) {
  const v = (n ?? {}) as Record<string, unknown>;
  const asInput = (x: unknown) => (x instanceof Date ? toTokyoInput(x) : typeof x === 'string' ? x : '');
  return {
    kind: (v.kind as string) ?? 'incident',
    severity: (v.severity as string) ?? 'info',
    state: (v.state as string) ?? 'investigating',
    title_ja: (v.title_ja as string) ?? '',
    title_en: (v.title_en as string) ?? '',
    body_ja: (v.body_ja as string) ?? '',
    body_en: (v.body_en as string) ?? '',
    starts_at: asInput(v.starts_at),
    ends_at: asInput(v.ends_at),
    mirror: v.mirror === true || v.mirror === 'on',
    components: Array.isArray(v.components) ? (v.components as string[]) : typeof v.components === 'string' ? [v.components] : [],
  };
}

interface FormOptions {
  detail?: service.NoticeDetail;
  values: ReturnType<typeof formValues>;
  errors?: FieldErrors;
  preview?: NoticeInput;
  flash?: string;
  updateErrors?: FieldErrors;
  updateValues?: { body_ja: string; body_en: string };
  status?: number;
}

async function renderForm(ctx: AppContext, req: Request, res: Response, o: FormOptions): Promise<void> {
  const notice = o.detail?.notice ?? null;
  const preview = o.preview ? service.previewNotice(o.preview, o.detail) : null;
  const statusUrl = `${ctx.config.PUBLIC_URL}/status`;
  const audit = notice ? (await listAudit(ctx.knex, 500, 'notice.')).filter((a) => a.target === `notice:${notice.id}`) : [];
  res.status(o.status ?? 200).render('notice/admin-form', {
    title: notice ? req.t('notice.admin.edit_title', { id: notice.id }) : req.t('notice.admin.new_title'),
    headExtra: HEAD_EXTRA,
    notice,
    updates: (o.detail?.updates ?? []).map((u) => ({ ...u, html: renderMarkdown(req.lang === 'en' && u.body_en ? u.body_en : u.body_ja) })),
    values: o.values,
    errors: o.errors ?? {},
    updateErrors: o.updateErrors ?? {},
    updateValues: o.updateValues ?? { body_ja: '', body_en: '' },
    states: notice?.published_at ? statesFor(notice.kind) : [...INCIDENT_STATES, ...MAINTENANCE_STATES],
    kindStates: notice ? statesFor(notice.kind) : [],
    preview,
    previewBanner: preview ? { ja: bannerFragment([preview], 'ja', statusUrl, { dismiss: true }), en: bannerFragment([preview], 'en', statusUrl, { dismiss: true }) } : null,
    flash: o.flash ?? null,
    audit,
    fmt: (d: Date | string) => formatJst(d),
  });
}

/** The confirmation page before a notice goes to every page (a new one, an edit, a draft). */
function confirmPublish(ctx: AppContext, req: Request, res: Response, action: string, input: NoticeInput, detail?: service.NoticeDetail): void {
  renderConfirm(req, res, {
    action,
    fields: req.body as Record<string, unknown>,
    heading: req.t('notice.confirm.publish_title'),
    lines: [
      req.t('notice.confirm.publish_every_page'),
      req.t('notice.confirm.publish_severity', { severity: req.t(`notice.severity.${input.severity}`), state: req.t(`notice.state.${input.state}`) }),
    ],
    button: req.t('notice.confirm.publish_button'),
    back: detail ? `/admin/notices/${detail.notice.id}` : '/admin/notices/new',
    preview: service.previewNotice(input, detail),
    statusUrl: `${ctx.config.PUBLIC_URL}/status`,
    headExtra: HEAD_EXTRA,
  });
}

/** Staff pages under /admin/notices: list, create, edit, preview, publish, timeline, resolve, mirror. */
export function adminNoticeRoutes(ctx: AppContext): Router {
  // The forms re-render with the messages beside their fields (422); an edit's page also shows the notice it edits.
  const newNotice = validate({ body: noticeForm }, { onInvalid: (req, res, errors) => renderForm(ctx, req, res, { values: formValues(req.body), errors, status: 422 }) });
  const editedNotice = validate(
    { body: noticeForm },
    { onInvalid: async (req, res, errors) => renderForm(ctx, req, res, { detail: await service.getNotice(ctx, noticeId(req)), values: formValues(req.body), errors, status: 422 }) },
  );
  const timelineUpdate = validate(
    { body: updateForm },
    {
      onInvalid: async (req, res, errors) => {
        const detail = await service.getNotice(ctx, noticeId(req));
        const updateValues = { body_ja: String(req.body.body_ja ?? ''), body_en: String(req.body.body_en ?? '') };
        return renderForm(ctx, req, res, { detail, values: formValues(detail.notice), updateErrors: prefixFieldErrors(errors, 'update_'), updateValues, status: 422 });
      },
    },
  );
  const router = Router();
  router.use('/admin/notices', requireStaff);

  router.get('/admin/notices', async (req, res) => {
    res.render('notice/admin-list', {
      title: req.t('notice.admin.title'),
      headExtra: HEAD_EXTRA,
      notices: await service.listAllNotices(ctx),
      version: runtimeFor(ctx).snapshot.version,
      fmt: (d: Date) => formatJst(d),
    });
  });

  router.get('/admin/notices/new', (req, res) => renderForm(ctx, req, res, { values: formValues() }));

  router.post('/admin/notices', newNotice, async (req, res) => {
    const input = newNotice.of(req).body;
    if (req.body.action === 'preview') return renderForm(ctx, req, res, { values: formValues(req.body), preview: input });
    if (req.body.action === 'publish' && !confirmed(req)) return confirmPublish(ctx, req, res, '/admin/notices', input);
    const id = await service.createNotice(ctx, input, actorOf(req), { publish: req.body.action === 'publish' });
    res.redirect(303, `/admin/notices/${id}?saved=1`);
  });

  router.get('/admin/notices/:id', byId, async (req, res) => {
    const detail = await service.getNotice(ctx, noticeId(req));
    const flash = req.query.saved ? req.t('notice.admin.saved') : req.query.published ? req.t('notice.admin.published_msg', { version: detail.notice.version }) : undefined;
    await renderForm(ctx, req, res, { detail, values: formValues(detail.notice), flash });
  });

  router.post('/admin/notices/:id', byId, editedNotice, async (req, res) => {
    const id = noticeId(req);
    const detail = await service.getNotice(ctx, id);
    const input = editedNotice.of(req).body;
    if (req.body.action === 'preview') return renderForm(ctx, req, res, { detail, values: formValues(req.body), preview: input });
    if (req.body.action === 'publish' && !confirmed(req)) return confirmPublish(ctx, req, res, `/admin/notices/${id}`, input, detail);
    await service.editNotice(ctx, id, input, actorOf(req));
    if (req.body.action === 'publish') {
      await service.publishNotice(ctx, id, actorOf(req));
      return res.redirect(303, `/admin/notices/${id}?published=1`);
    }
    res.redirect(303, `/admin/notices/${id}?saved=1`);
  });

  router.post('/admin/notices/:id/publish', byId, async (req, res) => {
    const id = noticeId(req);
    if (!confirmed(req)) {
      const detail = await service.getNotice(ctx, id);
      return confirmPublish(ctx, req, res, `/admin/notices/${id}/publish`, detail.notice, detail);
    }
    await service.publishNotice(ctx, id, actorOf(req));
    res.redirect(303, `/admin/notices/${id}?published=1`);
  });

  router.post('/admin/notices/:id/updates', byId, timelineUpdate, async (req, res) => {
    const id = noticeId(req);
    await service.addUpdate(ctx, id, timelineUpdate.of(req).body, actorOf(req));
    res.redirect(303, `/admin/notices/${id}?published=1`);
  });

  router.post('/admin/notices/:id/resolve', byId, async (req, res) => {
    const id = noticeId(req);
    if (!confirmed(req)) {
      const { notice } = await service.getNotice(ctx, id);
      const closed = closedStateFor(notice.kind);
      const lang = req.lang;
      return renderConfirm(req, res, {
        action: `/admin/notices/${id}/resolve`,
        heading: req.t('notice.confirm.resolve_title', { title: lang === 'en' && notice.title_en ? notice.title_en : notice.title_ja }),
        lines: [
          req.t('notice.confirm.resolve_lines', { state: req.t(`notice.state.${closed}`) }),
          req.t('notice.confirm.resolve_message', { message: req.t(notice.kind === 'maintenance' ? 'notice.completed_default' : 'notice.resolved_default') }),
        ],
        button: req.t(notice.kind === 'maintenance' ? 'notice.confirm.complete_button' : 'notice.confirm.resolve_button'),
        back: `/admin/notices/${id}`,
        statusUrl: `${ctx.config.PUBLIC_URL}/status`,
        headExtra: HEAD_EXTRA,
      });
    }
    await service.resolveNotice(ctx, id, actorOf(req));
    res.redirect(303, `/admin/notices/${id}?published=1`);
  });

  router.post('/admin/notices/:id/mirror', byId, async (req, res) => {
    const id = noticeId(req);
    await service.setMirror(ctx, id, req.body.mirror === 'on', actorOf(req));
    res.redirect(303, `/admin/notices/${id}?saved=1`);
  });

  return router;
}
