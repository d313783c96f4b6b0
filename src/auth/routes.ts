import { Router, type Request, type Response } from 'express';
import passport from 'passport';
import { z } from 'zod';
import type { AppContext } from '../app-context';
import { createLimiter } from '../http/rate-limit';
import { csrfToken } from '../http/csrf';
import { validate } from '../http/validate';
import type { FieldErrors } from '../http/field-errors';
import { touchLastLogin } from '../toybox/users';
import { isStaff, type PortalUser } from './user';
import { HashGateBusy } from './hash-gate';
import { answerSignInBusy } from './busy';
import type { LoginFailure } from './passport';

/** The sign-in form: each problem beside its field, in the reader's language. */
export const loginSchema = z.object({
  login: z.string('auth.login_required').trim().min(1, 'auth.login_required').max(254, 'auth.login_too_long'),
  password: z.string('auth.password_required').min(1, 'auth.password_required').max(4096, 'auth.password_too_long'),
  next: z.string().max(2048).optional().catch(undefined),
});

/** `/login?next=...`: a path to return to (anything else is dropped, never an error). */
const loginQuery = z.object({ next: z.string().max(2048).optional().catch(undefined) });

/** Only same-site paths: an open redirect would make the login page a phishing tool. */
export function safeNext(next: unknown, fallback: string): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : fallback;
}

export function authRoutes(ctx: AppContext): Router {
  const router = Router();
  const FIFTEEN_MIN = 15 * 60 * 1000;
  const perIp = createLimiter(ctx.knex, { name: 'login-ip', windowMs: FIFTEEN_MIN, limit: 30, onlyFailures: true });
  const perAccount = createLimiter(ctx.knex, {
    name: 'login-account',
    windowMs: FIFTEEN_MIN,
    limit: 5,
    onlyFailures: true,
    key: (req) => (typeof req.body?.login === 'string' ? `acct:${req.body.login.trim().toLowerCase()}` : undefined),
  });

  const renderLogin = (req: Request, res: Response, status: number, o: { login?: string; next?: unknown; error?: string | null; errors?: FieldErrors }) =>
    res.status(status).render('auth/login', {
      title: req.t('auth.title'),
      values: { login: o.login ?? '' },
      next: safeNext(o.next, ''),
      error: o.error ?? null,
      errors: o.errors ?? {},
    });
  const query = validate({ query: loginQuery });
  const form = validate(
    { body: loginSchema },
    { onInvalid: (req, res, errors) => renderLogin(req, res, 422, { login: typeof req.body?.login === 'string' ? req.body.login.slice(0, 254) : '', next: req.body?.next, errors }) },
  );

  router.get('/login', query, (req, res, next) => {
    if (req.user && req.user.scope !== 'export-only') return res.redirect(303, isStaff(req.user) ? '/admin' : '/account');
    // The form's CSRF token lives in the session: store it before answering, so that a database
    // outage answers 503 instead of a form that can never be sent.
    csrfToken(req);
    req.session.save((err) => {
      if (err) return next(err);
      renderLogin(req, res, 200, { next: query.of(req).query.next });
    });
  });

  router.post('/login', perIp, perAccount, form, (req, res, next) => {
    const input = form.of(req).body;
    const renderFailure = (status: number, key: string) => renderLogin(req, res, status, { login: input.login, next: input.next, error: req.t(key) });
    passport.authenticate('local', (err: unknown, user: PortalUser | false, info?: { message?: LoginFailure }) => {
      if (err instanceof HashGateBusy) return answerSignInBusy(req, res, err.retryAfterSeconds, { form: true });
      if (err) return next(err);
      if (!user) {
        const key = info?.message === 'ambiguous' ? 'auth.ambiguous' : info?.message === 'inactive' ? 'auth.inactive' : 'auth.invalid';
        return renderFailure(401, key);
      }
      // passport 0.7 regenerates the session id here, so a planted session id is worthless.
      req.login(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        touchLastLogin(ctx.knex, user.id).catch((e: unknown) => req.log.warn({ err: e }, 'last_login not updated'));
        // A suspended account may only export its own data: straight to it.
        if (user.scope === 'export-only') return res.redirect(303, '/export');
        res.redirect(303, safeNext(input.next, isStaff(user) ? '/admin' : '/account'));
      });
    })(req, res, next);
  });

  router.post('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.regenerate((regenErr) => (regenErr ? next(regenErr) : res.redirect(303, '/')));
    });
  });

  return router;
}
