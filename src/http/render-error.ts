import type { Request, Response } from 'express';
import { HttpError } from './errors';
import { translator, DEFAULT_LANG, type Translate } from './i18n';
import { InvalidInput, type FieldErrors } from './field-errors';

export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path.startsWith('/webhooks/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

/** Field errors in the reader's language: field -> [{ code, message }]. */
export function translateFields(t: Translate, fields: FieldErrors): Record<string, Array<{ code: string; message: string }>> {
  return Object.fromEntries(Object.entries(fields).map(([field, list]) => [field, list.map((m) => ({ code: m.key, message: t(m.key, m.vars) }))]));
}

/** Answers an HttpError as JSON for API clients and as a page for browsers. */
export function renderError(req: Request, res: Response, err: HttpError): void {
  const t = req.t ?? translator(DEFAULT_LANG);
  const message = t(err.messageKey, err.vars);
  const fields = err instanceof InvalidInput ? translateFields(t, err.fields) : undefined;
  res.status(err.status);
  if (wantsJson(req)) {
    res.json({ error: { status: err.status, code: err.messageKey, message, ...(fields ? { fields } : {}), ...(err.details ? { details: err.details } : {}) } });
    return;
  }
  const view = err.status === 404 ? 'errors/404' : 'errors/error';
  res.render(view, { title: t(`errors.title_${err.status}`), message, status: err.status, details: err.details, fields }, (renderErr, html) => {
    if (renderErr) res.type('text/plain').send(message);
    else res.send(html);
  });
}
