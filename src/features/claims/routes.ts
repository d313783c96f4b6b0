import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { requireUser, requireStaff } from '../../auth/guards';
import { isStaff } from '../../auth/user';
import { userActor } from '../../audit/service';
import { deferCsrfUntilParsed, verifyCsrfToken } from '../../http/csrf';
import { createLimiter } from '../../http/rate-limit';
import { HttpError, Forbidden } from '../../http/errors';
import { validate } from '../../http/validate';
import { validateLink } from '../../http/links';
import { InvalidInput, type FieldErrors } from '../../http/field-errors';
import { MIN_PASSWORD_LENGTH } from '../../auth/password-rules';
import type { z } from 'zod';
import { idParams } from '../../http/params';
import { accountForm, archiveRestoreForm, decisionForm, emailForm, inviteForm, oldTokenForm, restoreForm, statementForm, tokenForm } from './schema';
import * as accounts from './accounts';
import * as service from './service';
import * as restoring from './restore';
import { readHashedUpload, UploadRefused } from './upload';
import * as archiving from './archive';
import { readArchiveUpload } from './archive-upload';

const headExtra = '<link rel="stylesheet" href="/static/css/claims.css">';

// zod at the edge through http/validate: an invalid form is a 422 naming each field's problem in the reader's
// language; a malformed id in the path is a 404 (src/http/params.ts); e-mailed link tokens follow src/http/links.ts.
const body = <T extends z.ZodType>(schema: T) => validate({ body: schema });

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
  const archives = await archiving.archiveCandidates(ctx, req.user!.id);
  const archiveReviews = await archiving.myArchiveReviews(ctx, req.user!.id);
  res.status(status).render('claims/index', {
    title: req.t('claims.title'),
    headExtra,
    claims,
    candidates,
    history,
    sso,
    archives,
    archiveReviews,
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

  // The person's own export archive: streamed to a private temporary file, verified, kept when it is theirs.
  router.post(declareUpload('/recover/archive'), requireUser, proofLimit, async (req, res) => {
    let upload;
    try {
      upload = await readArchiveUpload(req, archiving.archiveDir(ctx, 'uploads'), uploadLimits.maxTotalBytes, (token) => verifyCsrfToken(req, token));
    } catch (err) {
      if (err instanceof UploadRefused || (err instanceof HttpError && err.status === 403)) res.setHeader('Connection', 'close');
      throw err;
    }
    const archive = await archiving.proveByArchive(ctx, actor(req), upload);
    // Kept for staff: accepted, but not (yet) proof.
    await renderRecover(ctx, req, res, { archiveAdded: archive }, archive.status === 'review' && !archive.already ? 202 : 200);
  });

  const archiveRestoreBody = body(archiveRestoreForm);
  router.post('/recover/archive/restore', requireUser, restoreLimit, archiveRestoreBody, async (req, res) => {
    const f = archiveRestoreBody.of(req).body;
    const result = await archiving.restoreFromArchive(ctx, actor(req), f.archive, {
      posts: f.all_posts ? 'all' : f.posts,
      cards: f.cards,
      avatar: f.avatar,
      header: f.header,
      display_name: f.display_name,
      bio: f.bio,
    });
    await renderRecover(ctx, req, res, { restored: { reactions: 0, bookmarks: 0, reposts: 0, follows: 0, articles: 0, pending_edges: 0, ...result } });
  });

  const emailBody = body(emailForm);
  router.post('/recover/email', requireUser, emailLimit, emailBody, async (req, res) => {
    const { email } = emailBody.of(req).body;
    await service.requestEmailProof(ctx, actor(req), email, req.lang);
    await renderRecover(ctx, req, res, { emailSent: email });
  });

  // A link opens a page; only its POST confirms (mail scanners follow links). Dead links follow src/http/links.ts:
  // out of shape 400, unknown or expired 410 with "ask for a new link" (/recover).
  const emailLink = validateLink({ params: tokenForm }, service.EMAIL_LINK_NEXT);
  router.get('/recover/email/:token', requireUser, emailLink, async (req, res) => {
    const { token } = emailLink.of(req).params;
    await service.checkEmailLink(ctx, token);
    res.render('claims/email-confirm', { title: req.t('claims.email.confirm_title'), headExtra, token });
  });

  const confirmBody = validateLink({ body: tokenForm }, service.EMAIL_LINK_NEXT);
  router.post('/recover/email/confirm', requireUser, proofLimit, confirmBody, async (req, res) => {
    const { token } = confirmBody.of(req).body;
    const result = await service.confirmEmailProof(ctx, actor(req), token);
    await renderRecover(ctx, req, res, { emailConfirmed: result.email, outcomes: result.outcomes });
  });

  router.post('/recover/sso', requireUser, proofLimit, async (req, res) => {
    const outcomes = await service.proveBySso(ctx, actor(req));
    await renderRecover(ctx, req, res, { outcomes });
  });

  const oldTokenBody = body(oldTokenForm);
  router.post('/recover/token', requireUser, proofLimit, oldTokenBody, async (req, res) => {
    const { token } = oldTokenBody.of(req).body;
    const outcome = await service.proveByOldToken(ctx, actor(req), token);
    await renderRecover(ctx, req, res, { outcomes: [outcome] });
  });

  const statementBody = body(statementForm);
  router.post('/recover/statement', requireUser, proofLimit, statementBody, async (req, res) => {
    const { display_id } = statementBody.of(req).body;
    const outcomes = await service.stateOldDisplayId(ctx, actor(req), display_id);
    await renderRecover(ctx, req, res, { outcomes });
  });

  const restoreBody = body(restoreForm);
  router.post('/recover/restore', requireUser, restoreLimit, restoreBody, async (req, res) => {
    const f = restoreBody.of(req).body;
    const result = await restoring.restore(ctx, actor(req), f.claim, {
      posts: f.all_posts ? 'all' : f.posts,
      cards: f.all_cards ? 'all' : f.cards,
      avatar: f.avatar,
      header: f.header,
      display_name: f.display_name,
      bio: f.bio,
      articles: f.articles,
    });
    await renderRecover(ctx, req, res, { restored: result });
  });

  const byId = validate({ params: idParams });
  router.post('/recover/restores/:id/undo', requireUser, byId, restoreLimit, async (req, res) => {
    const { id } = byId.of(req).params;
    const result = await restoring.undo(ctx, actor(req), id);
    await renderRecover(ctx, req, res, { undone: result });
  });

  router.get('/recover/preview/:id', requireUser, byId, async (req, res) => {
    const { id } = byId.of(req).params;
    const img = await restoring.preview(ctx, { id: req.user!.id, staff: isStaff(req.user) }, id);
    res.setHeader('Cache-Control', 'private, max-age=600');
    res.type(img.type).send(img.body);
  });

  // The invitation link works signed out: the account has no usable password yet.
  const invitePerIp = createLimiter(ctx.knex, { name: 'claims-invite', windowMs: 15 * 60_000, limit: 20 });
  const renderInvite = async (req: Request, res: Response, token: string, errors: FieldErrors = {}, status = 200) => {
    const inv = await accounts.describeInvitation(ctx, token);
    res.status(status).render('claims/invite', { title: req.t('claims.invite.title'), headExtra, token, displayId: inv.display_id, errors, minLength: MIN_PASSWORD_LENGTH });
  };
  // src/http/links.ts: a token out of shape 400; unknown, used or expired 410 (describeInvitation) with what to do next.
  const inviteLink = validateLink({ params: tokenForm }, accounts.INVITE_NEXT);
  router.get('/recover/invite/:token', inviteLink, invitePerIp, async (req, res) => renderInvite(req, res, inviteLink.of(req).params.token));

  // The form's hidden token first (a mangled one is the link's 400), then the passwords (422 beside their fields).
  const inviteToken = validateLink({ body: tokenForm }, accounts.INVITE_NEXT);
  const inviteBody = validate({ body: inviteForm }, { onInvalid: (req, res, errors) => renderInvite(req, res, String((req.body as { token?: unknown } | undefined)?.token ?? ''), errors, 422) });
  router.post('/recover/invite', invitePerIp, inviteToken, inviteBody, async (req, res) => {
    const { token, password, password2 } = inviteBody.of(req).body;
    try {
      const done = await accounts.acceptInvitation(ctx, token, password, password2);
      res.render('claims/invite-done', { title: req.t('claims.invite.title'), headExtra, displayId: done.display_id, toyboxUrl: ctx.config.TOYBOX_URL });
    } catch (err) {
      if (err instanceof InvalidInput) return renderInvite(req, res, token, err.fields, 422);
      throw err;
    }
  });

  const accountBody = body(accountForm);
  router.post('/admin/claims/restore-account', requireStaff, accountBody, async (req, res) => {
    const f = accountBody.of(req).body;
    const r = await accounts.restoreAbandonedAccount(ctx, userActor(req.user!), f.old_user_id, { invite: f.invite, displayId: f.display_id || undefined, lang: req.lang });
    const queue = await service.staffQueue(ctx);
    const archiveQueue = await archiving.archiveReviewQueue(ctx);
    res.render('claims/admin', { title: req.t('claims.admin.title'), headExtra, queue, archiveQueue, decided: null, account: r });
  });

  router.get('/admin/claims', requireStaff, async (req, res) => {
    const queue = await service.staffQueue(ctx);
    const archiveQueue = await archiving.archiveReviewQueue(ctx);
    res.render('claims/admin', { title: req.t('claims.admin.title'), headExtra, queue, archiveQueue, decided: req.query.decided ?? null, account: null });
  });

  // An archive sent to staff (unsigned, foreign key, or another account's): approve makes it restorable, reject removes it.
  const archiveDecisionInput = validate({ params: idParams, body: decisionForm });
  router.post('/admin/claims/archives/:id/decision', requireStaff, archiveDecisionInput, async (req, res) => {
    const { params: { id }, body: { decision, reason } } = archiveDecisionInput.of(req);
    await archiving.decideArchive(ctx, userActor(req.user!), id, decision, reason);
    res.redirect(303, `/admin/claims#archive-${id}`);
  });

  const decisionInput = validate({ params: idParams, body: decisionForm });
  router.post('/admin/claims/:id/decision', requireStaff, decisionInput, async (req, res) => {
    const { params: { id }, body: { decision, reason } } = decisionInput.of(req);
    if (!isStaff(req.user)) throw Forbidden('errors.staff_only');
    await service.decideClaim(ctx, userActor(req.user!), id, decision, reason);
    res.redirect(303, `/admin/claims?decided=${id}`);
  });

  return router;
}
