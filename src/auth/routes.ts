import { Router } from 'express';
import passport from 'passport';
import { z } from 'zod';
import type { AppContext } from '../app-context';
import { createLimiter } from '../http/rate-limit';
import { csrfToken } from '../http/csrf';
import { touchLastLogin } from '../toybox/users';
import { isStaff, type PortalUser } from './user';
import type { LoginFailure } from './passport';

const loginSchema = z.object({
  login: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(4096),
  next: z.string().optional(),
});

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

  router.get('/login', (req, res, next) => {
    if (req.user && req.user.scope !== 'export-only') return res.redirect(303, isStaff(req.user) ? '/admin' : '/account');
    // The form's CSRF token lives in the session: store it before answering, so that a database
    // outage answers 503 instead of a form that can never be sent.
    csrfToken(req);
    req.session.save((err) => {
      if (err) return next(err);
      res.render('auth/login', { title: req.t('auth.title'), values: { login: '' }, next: safeNext(req.query.next, ''), error: null });
    });
  });

  router.post('/login', perIp, perAccount, (req, res, next) => {
    const parsed = loginSchema.safeParse(req.body);
    const renderFailure = (status: number, key: string) =>
      res.status(status).render('auth/login', {
        title: req.t('auth.title'),
        values: { login: typeof req.body?.login === 'string' ? req.body.login : '' },
        next: safeNext(req.body?.next, ''),
        error: req.t(key),
      });
    if (!parsed.success) return renderFailure(400, 'auth.missing_fields');
    passport.authenticate('local', (err: unknown, user: PortalUser | false, info?: { message?: LoginFailure }) => {
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
        res.redirect(303, safeNext(parsed.data.next, isStaff(user) ? '/admin' : '/account'));
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
