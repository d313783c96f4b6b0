import { Router, type Request, type Response, type NextFunction } from 'express';
import type { AppContext } from '../../app-context';
import { NotFound } from '../../http/errors';
import { createLimiter } from '../../http/rate-limit';
import { toPortalUser } from '../../auth/user';
import { validate } from '../../http/validate';
import { addFieldError, fieldError, hasFieldErrors, type FieldErrors } from '../../http/field-errors';
import { setupSchema, type SetupInput } from './schema';
import { checkSetupToken, setupState } from './tokens';
import { BootstrapRefused, clashingFields, createSuperuserWithToken, passwordProblems } from './service';
import { commonPasswordCount, MIN_PASSWORD_LENGTH } from '../../auth/password-rules';

const TOKEN_STATUS: Record<string, number> = { none: 403, expired: 403, wrong: 403, used: 409 };

/** Failed POST /setup (wrong token or invalid form) per client address, then 429 until the window ends. */
export const SETUP_FAILURES_PER_IP = 10;
export const SETUP_FAILURE_WINDOW_MS = 15 * 60 * 1000;

export function bootstrapRoutes(ctx: AppContext): Router {
  const router = Router();
  // Wrong tokens never withdraw the token (see checkSetupToken): failures are limited per client address instead.
  const limiter = createLimiter(ctx.knex, { name: 'setup', windowMs: SETUP_FAILURE_WINDOW_MS, limit: SETUP_FAILURES_PER_IP, onlyFailures: true, messageKey: 'bootstrap.too_many' });

  /** The form again, with what was typed (never the token or passwords) and each message beside its field. */
  async function render(req: Request, res: Response, status: number, errors: FieldErrors = {}) {
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

  // Once an administrator exists the page is gone: 404 before anything reads the form.
  const whileOpen = async (_req: Request, _res: Response, next: NextFunction) => {
    if (!(await setupState(ctx)).open) throw NotFound();
    next();
  };
  const form = validate({ body: setupSchema }, { onInvalid: (req, res, errors) => render(req, res, 422, errors), fallbackKey: 'bootstrap.errors.invalid_field' });

  router.get('/setup', whileOpen, async (req, res) => {
    await render(req, res, 200);
  });

  router.post('/setup', limiter, whileOpen, form, async (req, res, next) => {
    const input = form.of(req).body;
    const check = await checkSetupToken(ctx, input.token);
    if (!check.ok) return render(req, res, TOKEN_STATUS[check.reason]!, fieldError('token', `bootstrap.token.${check.reason}`));

    const errors = await accountErrors(ctx, input);
    if (hasFieldErrors(errors)) return render(req, res, 422, errors);

    try {
      const user = await createSuperuserWithToken(ctx, check.tokenId, input.token, input, `setup:${req.ip ?? 'unknown'}`);
      // passport 0.7 regenerates the session here: the new admin starts on a fresh session id.
      req.login(toPortalUser(user), (err) => (err ? next(err) : res.redirect(303, '/admin')));
    } catch (err) {
      if (!(err instanceof BootstrapRefused)) throw err;
      if (err.reason === 'closed') throw NotFound();
      if (err.reason === 'clash') return render(req, res, 422, fieldError('email', 'bootstrap.errors.email_taken'));
      if (err.reason === 'password') return render(req, res, 422, { password: err.detail.problems!.map((p) => ({ key: p.key, vars: p.vars })) });
      return render(req, res, TOKEN_STATUS[err.reason] ?? 403, fieldError('token', `bootstrap.token.${err.reason}`));
    }
  });

  return router;
}

/** Django's password rules, the confirmation, and clashes with existing accounts, each beside its field. */
async function accountErrors(ctx: AppContext, input: SetupInput): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  for (const p of passwordProblems(input.password, input)) addFieldError(errors, 'password', p.key, p.vars);
  if (input.password !== input.password_confirm) addFieldError(errors, 'password_confirm', 'bootstrap.errors.password_mismatch');
  const clash = await clashingFields(ctx.knex, input.email, input.display_id);
  if (clash.email) addFieldError(errors, 'email', 'bootstrap.errors.email_taken');
  if (clash.display_id) addFieldError(errors, 'display_id', 'bootstrap.errors.display_id_taken');
  return errors;
}
