import type { Request, Response } from 'express';
import { HttpError } from './errors';
import { translator, DEFAULT_LANG } from './i18n';

export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path.startsWith('/webhooks/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

/** Answers an HttpError as JSON for API clients and as a page for browsers. */
export function renderError(req: Request, res: Response, err: HttpError): void {
  const t = req.t ?? translator(DEFAULT_LANG);
  const message = t(err.messageKey, err.vars);
  res.status(err.status);
  if (wantsJson(req)) {
    res.json({ error: { status: err.status, code: err.messageKey, message, ...(err.details ? { details: err.details } : {}) } });
    return;
  }
  const view = err.status === 404 ? 'errors/404' : 'errors/error';
  res.render(view, { title: t(`errors.title_${err.status}`), message, status: err.status, details: err.details }, (renderErr, html) => {
    if (renderErr) res.type('text/plain').send(message);
    else res.send(html);
  });
}
