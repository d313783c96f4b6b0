import type { RequestHandler } from 'express';
import { BadRequest } from './errors';
import { isDeclaredUpload, isMultipart } from './csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After the body parsers and the CSRF check: a body no parser read (multipart
 * to a route that takes forms, text/plain, none at all) must not reach a
 * handler as `undefined`. Multipart goes only to the routes that declared
 * they read it (400 elsewhere); any other unread body becomes `{}`, which the
 * route's schema then refuses with its own message.
 */
export const normaliseBody: RequestHandler = (req, _res, next) => {
  if (SAFE_METHODS.has(req.method) || isDeclaredUpload(req)) return next();
  if (isMultipart(req)) return next(BadRequest('errors.multipart_unexpected'));
  if (req.body === undefined || req.body === null) req.body = {};
  next();
};
