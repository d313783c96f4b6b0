import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError, NotFound, BadRequest, Unavailable } from './errors';
import { isDatabaseUnavailable } from '../db/unavailable';
import { renderError } from './render-error';
import { logger } from '../logger';

export const notFoundHandler: RequestHandler = (req, res) => renderError(req, res, NotFound());

/** The one place errors become responses: known errors keep their status; anything else is a logged 500 without a stack for the user. */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, next) => {
  if (res.headersSent) return next(err);
  if (err instanceof HttpError) return renderError(req, res, err);
  const e = err as { type?: string; status?: number; code?: string; message?: string };
  if (e.type === 'entity.parse.failed') return renderError(req, res, BadRequest('errors.malformed_body'));
  if (e.type === 'entity.too.large') return renderError(req, res, new HttpError(413, 'errors.too_large'));
  if (isDatabaseUnavailable(err)) {
    (req as { log?: typeof logger }).log?.warn({ err }, 'database unavailable') ?? logger.warn({ err }, 'database unavailable');
    res.setHeader('Retry-After', '30');
    return renderError(req, res, Unavailable('errors.database_unavailable'));
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return renderError(req, res, new HttpError(e.status, 'errors.bad_request'));
  }
  (req as { log?: typeof logger }).log?.error({ err }, 'unhandled error') ?? logger.error({ err }, 'unhandled error');
  return renderError(req, res, new HttpError(500, 'errors.internal'));
};
