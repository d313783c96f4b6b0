import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import { NotFound } from '../../http/errors';
import { createLimiter } from '../../http/rate-limit';
import { toPortalUser } from '../../auth/user';
import { setupSchema, fieldErrors, type SetupField, type SetupInput } from './schema';
import { checkSetupToken, setupState } from './tokens';
import { BootstrapRefused, clashingFields, createSuperuserWithToken, passwordProblems } from './service';
import { commonPasswordCount, MIN_PASSWORD_LENGTH } from './password-rules';

type Errors = Partial<Record<SetupField, string>>;

const TOKEN_STATUS: Record<string, number> = { none: 403, expired: 403, wrong: 403, used: 409 };

/** Failed POST /setup (wrong token or invalid form) per client address, then 429 until the window ends. */
export const SETUP_FAILURES_PER_IP = 10;
export const SETUP_FAILURE_WINDOW_MS = 15 * 60 * 1000;

export function bootstrapRoutes(ctx: AppContext): Router {
  const router = Router();
  // Wrong tokens never withdraw the token (see checkSetupToken): failures are limited per client address instead.
  const limiter = createLimiter(ctx.knex, { name: 'setup', windowMs: SETUP_FAILURE_WINDOW_MS, limit: SETUP_FAILURES_PER_IP, onlyFailures: true, messageKey: 'bootstrap.too_many' });

  /** The form again, with what was typed (never the token or passwords) and each message beside its field. */
  async function render(req: Request, res: Response, status: number, errors: Errors = {}) {
    const state = await setupState(ctx);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    res.status(status).render('bootstrap/setup', {
      title: req.t('bootstrap.title'),
      state,
      errors,
      values: { email: text(body.email), display_id: text(body.display_id), role: body.role === 'SUPERUSER' ? 'SUPERUSER' : 'ADMIN' },
      minLength: MIN_PASSWORD_LENGTH,
      commonCount: commonPasswordCount(),
    });
  }

  router.get('/setup', async (req, res) => {
    if (!(await setupState(ctx)).open) throw NotFound();
    await render(req, res, 200);
  });

  router.post('/setup', limiter, async (req, res, next) => {
    if (!(await setupState(ctx)).open) throw NotFound();
    const parsed = setupSchema.safeParse(req.body);
    if (!parsed.success) {
      const keys = fieldErrors(parsed.error);
      return render(req, res, 422, translate(req, keys));
    }
    const input = parsed.data;
    const check = await checkSetupToken(ctx, input.token);
    if (!check.ok) return render(req, res, TOKEN_STATUS[check.reason]!, { token: req.t(`bootstrap.token.${check.reason}`) });

    const errors = await accountErrors(ctx, req, input);
    if (Object.keys(errors).length) return render(req, res, 422, errors);

    try {
      const user = await createSuperuserWithToken(ctx, check.tokenId, input.token, input, `setup:${req.ip ?? 'unknown'}`);
      // passport 0.7 regenerates the session here: the new admin starts on a fresh session id.
      req.login(toPortalUser(user), (err) => (err ? next(err) : res.redirect(303, '/admin')));
    } catch (err) {
      if (!(err instanceof BootstrapRefused)) throw err;
      if (err.reason === 'closed') throw NotFound();
      if (err.reason === 'clash') return render(req, res, 422, { email: req.t('bootstrap.errors.email_taken') });
      if (err.reason === 'password') return render(req, res, 422, { password: err.detail.problems!.map((p) => req.t(p.key, p.vars)).join(' ') });
      return render(req, res, TOKEN_STATUS[err.reason] ?? 403, { token: req.t(`bootstrap.token.${err.reason}`) });
    }
  });

  return router;
}

/** Django's password rules, the confirmation, and clashes with existing accounts, each beside its field. */
async function accountErrors(ctx: AppContext, req: Request, input: SetupInput): Promise<Errors> {
  const errors: Errors = {};
  const problems = passwordProblems(input.password, input);
  if (problems.length) errors.password = problems.map((p) => req.t(p.key, p.vars)).join(' ');
  if (input.password !== input.password_confirm) errors.password_confirm = req.t('bootstrap.errors.password_mismatch');
  const clash = await clashingFields(ctx.knex, input.email, input.display_id);
  if (clash.email) errors.email = req.t('bootstrap.errors.email_taken');
  if (clash.display_id) errors.display_id = req.t('bootstrap.errors.display_id_taken');
  return errors;
}

function translate(req: Request, keys: Errors): Errors {
  return Object.fromEntries(Object.entries(keys).map(([field, key]) => [field, req.t(key)]));
}
