import type { Request, Response, NextFunction } from 'express';
import { DEFAULT_LANG, LANGUAGES, isLang, translator, type Lang } from '../i18n';
import { formatJst } from '../i18n/tokyo-time';

/** ?lang= wins (and is remembered in a cookie), then the cookie, then Accept-Language, then Japanese. */
export function pickLanguage(req: Request): Lang {
  const q = req.query.lang;
  if (isLang(q)) return q;
  const cookie = /(?:^|;\s*)lang=(ja|en)\b/.exec(req.headers.cookie ?? '');
  if (cookie && isLang(cookie[1])) return cookie[1];
  const accepted = req.acceptsLanguages(...LANGUAGES);
  return isLang(accepted) ? accepted : DEFAULT_LANG;
}

/** The current page in another language, keeping its other query parameters. */
export function languageSwitchUrl(pathname: string, query: Record<string, unknown>, target: Lang): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (k !== 'lang' && typeof v === 'string') params.set(k, v);
  params.set('lang', target);
  return `${pathname}?${params.toString()}`;
}

export function i18nMiddleware(req: Request, res: Response, next: NextFunction): void {
  const lang = pickLanguage(req);
  if (isLang(req.query.lang)) {
    res.cookie('lang', lang, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000, secure: req.secure });
  }
  req.lang = lang;
  req.t = translator(lang);
  res.locals.lang = lang;
  res.locals.t = req.t;
  res.locals.when = (d: Date | string | null | undefined) => (d ? formatJst(d) : '');
  res.locals.langUrl = (target: Lang) => languageSwitchUrl(req.path, req.query as Record<string, unknown>, target);
  res.vary('Accept-Language');
  next();
}
