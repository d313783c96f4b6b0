import { Router, type Request } from 'express';
import type { AppContext } from '../../app-context';
import type { Lang } from '../../http/i18n';
import type { PublicNotice, NoticeSnapshot } from './model';
import { runtimeFor } from './runtime';
import { createNoticeFastPath } from './fast-path';
import { formatTokyo, tokyoDay } from '../../http/tokyo-time';
import { HISTORY_DAYS } from './snapshot';
import { atomFeed } from './atom';

const RANK = { info: 1, warning: 2, critical: 3 } as const;

/** One mark per Japan-time day for the last 90 days, coloured by the worst incident open that day. */
export function dayStrip(snapshot: NoticeSnapshot, lang: Lang, t: Request['t'], now = new Date()): Array<{ day: string; severity: PublicNotice['severity'] | null; label: string }> {
  const incidents = [...snapshot.active, ...snapshot.history].filter((n) => n.kind === 'incident');
  const days: Array<{ day: string; severity: PublicNotice['severity'] | null; label: string }> = [];
  for (let i = HISTORY_DAYS - 1; i >= 0; i -= 1) {
    const day = tokyoDay(new Date(now.getTime() - i * 86_400_000));
    let worst: PublicNotice | null = null;
    for (const n of incidents) {
      const from = tokyoDay(n.startedAt ?? n.publishedAt);
      const to = n.resolvedAt ? tokyoDay(n.resolvedAt) : tokyoDay(now);
      if (day >= from && day <= to && (!worst || RANK[n.severity] > RANK[worst.severity])) worst = n;
    }
    days.push({ day, severity: worst?.severity ?? null, label: worst ? t('notice.status.day_bad', { day, title: worst.title[lang] }) : t('notice.status.day_ok', { day }) });
  }
  return days;
}

/**
 * The public side, mounted before sessions so it needs no database: the
 * status page, its Atom feed, and the fast-path URLs for requests that reach
 * Express (tests through supertest, or a server without the fast path).
 */
export function noticePublicRoutes(ctx: AppContext): Router {
  const router = Router();
  const runtime = runtimeFor(ctx);
  const fast = createNoticeFastPath(ctx);

  router.all(['/api/notice', '/banner.js', '/banner.html'], (req, res, next) => {
    if (!fast(req, res)) next();
  });

  router.get('/status', (req, res) => {
    const snapshot = runtime.snapshot;
    res.locals.user = null; // no session here: the page must render while the database is down
    res.locals.csrfToken = () => '';
    res.locals.path = req.path;
    res.set('Cache-Control', 'public, max-age=10, stale-while-revalidate=60');
    res.render('notice/status', {
      title: req.t('notice.status.title'),
      headExtra: '<link rel="stylesheet" href="/static/css/notice.css"><link rel="alternate" type="application/atom+xml" href="/status.atom">',
      incidents: snapshot.active.filter((n) => n.kind === 'incident'),
      maintenance: snapshot.active.filter((n) => n.kind === 'maintenance'),
      history: snapshot.history,
      days: dayStrip(snapshot, req.lang, req.t),
      generatedAt: snapshot.generatedAt,
      stale: runtime.lastError !== null,
      fmt: (d: string) => formatTokyo(d, req.lang),
    });
  });

  router.get('/status.atom', (req, res) => {
    res.type('application/atom+xml; charset=utf-8').set('Cache-Control', 'public, max-age=60').send(atomFeed(runtime.snapshot, ctx.config.PUBLIC_URL, req.lang));
  });

  return router;
}
