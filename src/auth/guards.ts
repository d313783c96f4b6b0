import type { RequestHandler } from 'express';
import { Forbidden, HttpError } from '../http/errors';
import { wantsJson } from '../http/render-error';
import { isStaff } from './user';

/** Pages for signed-in users: browsers go to /login and come back, API clients get 401. */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user && req.user.scope !== 'export-only') return next();
  return askToSignIn(req, res);
};

/** Export pages also accept the one-time e-mailed link's export-only session. */
export const requireUserOrExportLink: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  return askToSignIn(req, res);
};

export const requireStaff: RequestHandler = (req, res, next) => {
  if (!req.user || req.user.scope === 'export-only') return askToSignIn(req, res);
  if (!isStaff(req.user)) return next(Forbidden('errors.staff_only'));
  return next();
};

function askToSignIn(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]): void {
  // API clients get the one error JSON from the error handler.
  if (wantsJson(req)) throw new HttpError(401, 'errors.sign_in_required');
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}
