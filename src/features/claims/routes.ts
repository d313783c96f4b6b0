import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { requireUser, requireStaff } from '../../auth/guards';
import { isStaff } from '../../auth/user';
import { userActor } from '../../audit/service';
import { deferCsrfUntilParsed, verifyCsrfToken } from '../../http/csrf';
import { createLimiter } from '../../http/rate-limit';
import { HttpError, Forbidden } from '../../http/errors';
import type { z } from 'zod';
import { accountForm, decisionForm, emailForm, idParam, inviteForm, oldTokenForm, restoreForm, statementForm, tokenForm } from './schema';
import * as accounts from './accounts';
import * as service from './service';
import * as restoring from './restore';
import { readHashedUpload, UploadRefused } from './upload';

const headExtra = '<link rel="stylesheet" href="/static/css/claims.css">';

/** zod at the edge: the first problem's message key, as a 422 the person can read. */
function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues[0]?.message ?? '';
    throw new HttpError(422, msg.startsWith('claims.') ? msg : 'errors.invalid');
  }
  return r.data;
}

const actor = (req: Request): service.Actor => ({ id: req.user!.id, display_id: req.user!.display_id, actor: userActor(req.user!) });

// The upload route parses its own multipart body and checks the token itself, so it declares that.
const declareUpload = (p: string): string => deferCsrfUntilParsed(p);

async function renderRecover(ctx: AppContext, req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) {
  const claims = await service.myClaims(ctx, req.user!.id);
  const approved = claims.filter((c) => c.status === 'approved');
  const candidates = [];
  for (const c of approved) candidates.push(await restoring.candidates(ctx, req.user!.id, c.id));
  const history = await restoring.myRestores(ctx, req.user!.id);
  const sso = await service.ssoSuggestions(ctx, req.user!.id);
  res.status(status).render('claims/index', {
    title: req.t('claims.title'),
    headExtra,
    claims,
    candidates,
    history,
    sso,
    tokenProof: Boolean(ctx.config.TOYBOX_OLD_SECRET_KEY),
    now: new Date(),
    limits: { files: ctx.config.CLAIMS_MAX_FILES, mb: ctx.config.CLAIMS_MAX_UPLOAD_MB },
    ...extra,
  });
}

export function claimsRoutes(ctx: AppContext): Router {
  const router = Router();
  const perUser = (name: string, limit: number) =>
    createLimiter(ctx.knex, { name, windowMs: 60 * 60_000, limit, key: (req) => (req.user ? `user:${req.user.id}` : undefined) });
  const proofLimit = perUser('claims-proof', 20);
  const emailLimit = perUser('claims-email', 5);
  const restoreLimit = perUser('claims-restore', 60);
  const uploadLimits = { maxFiles: ctx.config.CLAIMS_MAX_FILES, maxFileBytes: ctx.config.CLAIMS_MAX_UPLOAD_MB * 1024 * 1024, maxTotalBytes: ctx.config.CLAIMS_MAX_UPLOAD_MB * 1024 * 1024 };

  router.get('/recover', requireUser, async (req, res) => renderRecover(ctx, req, res));

  router.post(declareUpload('/recover/files'), requireUser, proofLimit, async (req, res) => {
    let form;
    try {
      form = await readHashedUpload(req, uploadLimits, (token) => verifyCsrfToken(req, token));
    } catch (err) {
      // Do not read the rest of a refused body: answer and close the connection.
      if (err instanceof UploadRefused || (err instanceof HttpError && err.status === 403)) res.setHeader('Connection', 'close');
      throw err;
    }
    if (!form.files.length) throw new HttpError(422, 'claims.files.none');
    const result = await service.proveByFiles(ctx, actor(req), form.files);
    await renderRecover(ctx, req, res, { fileReport: result.files, outcomes: result.outcomes });
  });

  router.post('/recover/email', requireUser, emailLimit, async (req, res) => {
    const { email } = parse(emailForm, req.body);
    await service.requestEmailProof(ctx, actor(req), email, req.lang);
    await renderRecover(ctx, req, res, { emailSent: email });
  });

  // A link opens a page; only its POST confirms (mail scanners follow links).
  router.get('/recover/email/:token', requireUser, (req, res) => {
    const { token } = parse(tokenForm, { token: req.params.token });
    res.render('claims/email-confirm', { title: req.t('claims.email.confirm_title'), headExtra, token });
  });

  router.post('/recover/email/confirm', requireUser, proofLimit, async (req, res) => {
    const { token } = parse(tokenForm, req.body);
    const result = await service.confirmEmailProof(ctx, actor(req), token);
    await renderRecover(ctx, req, res, { emailConfirmed: result.email, outcomes: result.outcomes });
  });

  router.post('/recover/sso', requireUser, proofLimit, async (req, res) => {
    const outcomes = await service.proveBySso(ctx, actor(req));
    await renderRecover(ctx, req, res, { outcomes });
  });

  router.post('/recover/token', requireUser, proofLimit, async (req, res) => {
    const { token } = parse(oldTokenForm, req.body);
    const outcome = await service.proveByOldToken(ctx, actor(req), token);
    await renderRecover(ctx, req, res, { outcomes: [outcome] });
  });

  router.post('/recover/statement', requireUser, proofLimit, async (req, res) => {
    const { display_id } = parse(statementForm, req.body);
    const outcomes = await service.stateOldDisplayId(ctx, actor(req), display_id);
    await renderRecover(ctx, req, res, { outcomes });
  });

  router.post('/recover/restore', requireUser, restoreLimit, async (req, res) => {
    const f = parse(restoreForm, req.body);
    const result = await restoring.restore(ctx, actor(req), f.claim, {
      posts: f.all_posts ? 'all' : f.posts,
      cards: f.all_cards ? 'all' : f.cards,
      avatar: f.avatar,
      header: f.header,
      display_name: f.display_name,
      bio: f.bio,
    });
    await renderRecover(ctx, req, res, { restored: result });
  });

  router.post('/recover/restores/:id/undo', requireUser, restoreLimit, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const result = await restoring.undo(ctx, actor(req), id);
    await renderRecover(ctx, req, res, { undone: result });
  });

  router.get('/recover/preview/:id', requireUser, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const img = await restoring.preview(ctx, { id: req.user!.id, staff: isStaff(req.user) }, id);
    res.setHeader('Cache-Control', 'private, max-age=600');
    res.type(img.type).send(img.body);
  });

  // The invitation link works signed out: the account has no usable password yet.
  const invitePerIp = createLimiter(ctx.knex, { name: 'claims-invite', windowMs: 15 * 60_000, limit: 20 });
  router.get('/recover/invite/:token', invitePerIp, async (req, res) => {
    const { token } = parse(tokenForm, { token: req.params.token });
    const inv = await accounts.describeInvitation(ctx, token);
    res.render('claims/invite', { title: req.t('claims.invite.title'), headExtra, token, displayId: inv.display_id, error: null });
  });

  router.post('/recover/invite', invitePerIp, async (req, res) => {
    const { token, password, password2 } = parse(inviteForm, req.body);
    if (password !== password2) throw new HttpError(422, 'claims.invite.mismatch');
    const done = await accounts.acceptInvitation(ctx, token, password);
    res.render('claims/invite-done', { title: req.t('claims.invite.title'), headExtra, displayId: done.display_id, toyboxUrl: ctx.config.TOYBOX_URL });
  });

  router.post('/admin/claims/restore-account', requireStaff, async (req, res) => {
    const f = parse(accountForm, req.body);
    const r = await accounts.restoreAbandonedAccount(ctx, userActor(req.user!), f.old_user_id, { invite: f.invite, displayId: f.display_id || undefined, lang: req.lang });
    const queue = await service.staffQueue(ctx);
    res.render('claims/admin', { title: req.t('claims.admin.title'), headExtra, queue, decided: null, account: r });
  });

  router.get('/admin/claims', requireStaff, async (req, res) => {
    const queue = await service.staffQueue(ctx);
    res.render('claims/admin', { title: req.t('claims.admin.title'), headExtra, queue, decided: req.query.decided ?? null, account: null });
  });

  router.post('/admin/claims/:id/decision', requireStaff, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const { decision, reason } = parse(decisionForm, req.body);
    if (!isStaff(req.user)) throw Forbidden('errors.staff_only');
    await service.decideClaim(ctx, userActor(req.user!), id, decision, reason);
    res.redirect(303, `/admin/claims?decided=${id}`);
  });

  return router;
}
