import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../app-context';
import type { Lang } from '../../i18n';
import { COMPONENTS, type Component, type PublicNotice, type NoticeSnapshot } from './model';
import { runtimeFor } from './runtime';
import { createNoticeFastPath } from './fast-path';
import { formatJst, tokyoDay } from '../../i18n/tokyo-time';
import { HISTORY_DAYS } from './snapshot';
import { atomFeed } from './atom';
import { z } from 'zod';
import { NotFound } from '../../http/errors';
import { validate } from '../../http/validate';

const RANK = { info: 1, warning: 2, critical: 3 } as const;

function incidentsOf(snapshot: NoticeSnapshot): PublicNotice[] {
  return [...snapshot.active, ...snapshot.history].filter((n) => n.kind === 'incident');
}

/** Whether an incident was open on a Japan-time day: from the day it began to the day it was resolved (today while open). */
function openOn(n: PublicNotice, day: string, now: Date): boolean {
  const from = tokyoDay(n.startedAt ?? n.publishedAt);
  const to = n.resolvedAt ? tokyoDay(n.resolvedAt) : tokyoDay(now);
  return day >= from && day <= to;
}

/** One mark per Japan-time day for the last 90 days, coloured by the worst incident open that day. */
export function dayStrip(snapshot: NoticeSnapshot, lang: Lang, t: Request['t'], now = new Date()): Array<{ day: string; severity: PublicNotice['severity'] | null; label: string }> {
  const incidents = incidentsOf(snapshot);
  const days: Array<{ day: string; severity: PublicNotice['severity'] | null; label: string }> = [];
  for (let i = HISTORY_DAYS - 1; i >= 0; i -= 1) {
    const day = tokyoDay(new Date(now.getTime() - i * 86_400_000));
    let worst: PublicNotice | null = null;
    for (const n of incidents) {
      if (openOn(n, day, now) && (!worst || RANK[n.severity] > RANK[worst.severity])) worst = n;
    }
    days.push({ day, severity: worst?.severity ?? null, label: worst ? t('notice.status.day_bad', { day, title: worst.title[lang] }) : t('notice.status.day_ok', { day }) });
  }
  return days;
}

export type ComponentState = 'operational' | 'maintenance' | 'degraded' | 'partial' | 'major';
const BY_SEVERITY = { info: 'degraded', warning: 'partial', critical: 'major' } as const;
const STATE_RANK: Record<ComponentState, number> = { operational: 0, maintenance: 1, degraded: 2, partial: 3, major: 4 };

/** Each component's state now: the worst open incident naming it, else maintenance in progress, else operational. */
export function componentStates(snapshot: NoticeSnapshot): Array<{ id: Component; state: ComponentState; notices: PublicNotice[] }> {
  return COMPONENTS.map((id) => {
    const notices = snapshot.active.filter((n) => (n.components ?? []).includes(id));
    let state: ComponentState = 'operational';
    for (const n of notices) {
      const s: ComponentState = n.kind === 'incident' ? BY_SEVERITY[n.severity] : n.state === 'in_progress' ? 'maintenance' : 'operational';
      if (STATE_RANK[s] > STATE_RANK[state]) state = s;
    }
    return { id, state, notices };
  });
}

/** A Japan-time calendar day as the strip links it (`2026-01-23`); a date that does not exist (02-30) is malformed. */
const DAY = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((day) => {
    const noon = new Date(`${day}T12:00:00+09:00`);
    return !Number.isNaN(noon.getTime()) && tokyoDay(noon) === day;
  });

/** `/status/day/:day`: a malformed day is a 404, like a day outside the strip. */
export const dayParams = z.object({ day: DAY });

/** The notices (incidents and maintenance) open on one Japan-time day of the last 90, for /status/day/:day. */
export function noticesOn(snapshot: NoticeSnapshot, day: string, now = new Date()): PublicNotice[] | null {
  if (!DAY.safeParse(day).success) return null;
  const first = tokyoDay(new Date(now.getTime() - (HISTORY_DAYS - 1) * 86_400_000));
  if (day < first || day > tokyoDay(now) || tokyoDay(new Date(`${day}T12:00:00+09:00`)) !== day) return null;
  return [...snapshot.active, ...snapshot.history].filter((n) => openOn(n, day, now));
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

  const publicPage = (req: Request, res: Response) => {
    res.locals.user = null; // no session here: the page must render while the database is down
    res.locals.csrfToken = () => '';
    res.locals.path = req.path;
    res.set('Cache-Control', 'public, max-age=10, stale-while-revalidate=60');
  };
  const headExtra = '<link rel="stylesheet" href="/static/css/notice.css"><link rel="alternate" type="application/atom+xml" href="/status.atom">';

  router.get('/status', (req, res) => {
    const snapshot = runtime.snapshot;
    publicPage(req, res);
    res.render('notice/status', {
      title: req.t('notice.status.title'),
      headExtra,
      incidents: snapshot.active.filter((n) => n.kind === 'incident'),
      maintenance: snapshot.active.filter((n) => n.kind === 'maintenance'),
      history: snapshot.history,
      days: dayStrip(snapshot, req.lang, req.t),
      components: componentStates(snapshot),
      generatedAt: snapshot.generatedAt,
      stale: runtime.lastError !== null,
      fmt: (d: string) => formatJst(d),
    });
  });

  // One day of the strip, as a page of its own: the strip's links work without script.
  const dayPage = validate({ params: dayParams }, { notFoundKey: 'notice.status.day_unknown' });
  router.get('/status/day/:day', dayPage, (req, res, next) => {
    const { day } = dayPage.of(req).params;
    const notices = noticesOn(runtime.snapshot, day);
    if (!notices) return next(NotFound('notice.status.day_unknown'));
    publicPage(req, res);
    res.render('notice/status-day', {
      title: req.t('notice.status.day_title', { day }),
      headExtra,
      day,
      notices,
      fmt: (d: string) => formatJst(d),
    });
  });

  router.get('/status.atom', (req, res) => {
    res.type('application/atom+xml; charset=utf-8').set('Cache-Control', 'public, max-age=60').send(atomFeed(runtime.snapshot, ctx.config.PUBLIC_URL, req.lang));
  });

  return router;
}
