import type { Request, Response, RequestHandler } from 'express';
import { HttpError } from '../http/errors';
import { renderError, wantsJson } from '../http/render-error';
import { translator } from '../i18n';
import type { HashGate } from './hash-gate';

function bothLanguages(req: Request, seconds: number): string {
  const other = req.lang === 'en' ? 'ja' : 'en';
  return `${req.t('auth.busy', { seconds })} ${translator(other)('auth.busy', { seconds })}`;
}

/** The refusal page, rendered once per language: during a rush it is sent hundreds of times a second. */
const busyPages = new Map<string, string>();

function sendBusyPage(req: Request, res: Response, seconds: number): void {
  const key = `${req.lang}:${seconds}`;
  res.status(503);
  const cached = busyPages.get(key);
  if (cached) {
    res.type('html').send(cached);
    return;
  }
  res.locals.user = null;
  const message = bothLanguages(req, seconds);
  res.render('errors/error', { title: req.t('errors.title_503'), message, status: 503, details: null }, (err, html) => {
    if (err) return void res.type('text/plain').send(message);
    busyPages.set(key, html);
    res.type('html').send(html);
  });
}

/**
 * Too many sign-ins are being checked at once: 503 with Retry-After, as JSON
 * or as a page in both languages (the visitor may read either). With `form`
 * (the sign-in waited and its deadline passed) the sign-in form comes back
 * ready to retry. The password was never checked, so the rate limits do not
 * count this as a failed attempt (src/http/rate-limit.ts).
 */
export function answerSignInBusy(req: Request, res: Response, seconds: number, opts: { form: boolean }): void {
  res.setHeader('Retry-After', String(seconds));
  if (wantsJson(req)) return renderError(req, res, new HttpError(503, 'auth.busy', { seconds }));
  if (!opts.form) return sendBusyPage(req, res, seconds);
  res.status(503).render('auth/login', {
    title: req.t('auth.title'),
    values: { login: typeof req.body?.login === 'string' ? req.body.login : '' },
    next: '',
    error: bothLanguages(req, seconds),
  });
}

/**
 * Mounted before sessions, body parsing and the rate limits: while every
 * hashing slot and the whole queue are taken, a sign-in is refused at once,
 * costing no database round trip and no template with a form, so a rush of
 * retries cannot itself starve the banner and the other pages.
 */
export function refuseSignInWhileSaturated(gate: HashGate): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/login' || !gate.saturated()) return next();
    answerSignInBusy(req, res, gate.retryAfterSeconds, { form: false });
  };
}
