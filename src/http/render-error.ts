import type { Request, Response } from 'express';
import { HttpError } from './errors';
import { translator, DEFAULT_LANG, type Translate } from '../i18n';
import { InvalidInput, type FieldErrors } from './field-errors';
import { isLinkProblem, LinkGone, type LinkProblem } from './links';

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
    const next = isLinkProblem(err) ? { next: err.next.href } : {};
    res.json({ error: { status: err.status, code: err.messageKey, message, ...next, ...(fields ? { fields } : {}), ...(err.details ? { details: err.details } : {}) } });
    return;
  }
  if (isLinkProblem(err)) return renderLinkProblem(req, res, err, message);
  const view = err.status === 404 ? 'errors/404' : 'errors/error';
  res.render(view, { title: t(`errors.title_${err.status}`), message, status: err.status, details: err.details, fields }, (renderErr, html) => {
    if (renderErr) res.type('text/plain').send(message);
    else res.send(html);
  });
}

/** The link pages of links.ts, in both languages (the reader's first): a link from an e-mail may carry no language. */
function renderLinkProblem(req: Request, res: Response, err: LinkProblem, message: string): void {
  const first = req.lang ?? DEFAULT_LANG;
  const kind = err instanceof LinkGone ? 'gone' : 'malformed';
  const versions = [first, first === 'ja' ? 'en' : 'ja'].map((lang) => {
    const t = translator(lang as 'ja' | 'en');
    const reason = err instanceof LinkGone && err.reasonKey ? t(err.reasonKey) : null;
    return { lang, heading: t(`errors.link.${kind}_title`), text: t(`errors.link.${kind}_text`), reason, next: t(err.next.key) };
  });
  res.set('Cache-Control', 'no-store');
  // links from e-mails may be answered before sessions (notice subscription links): no signed-in bits, no form
  if (res.locals.user === undefined) res.locals.user = null;
  if (res.locals.csrfToken === undefined) res.locals.csrfToken = () => '';
  res.render('errors/link', { title: versions[0]!.heading, status: err.status, versions, href: err.next.href, message }, (renderErr, html) => {
    if (renderErr) res.type('text/plain').send(message);
    else res.send(html);
  });
}
