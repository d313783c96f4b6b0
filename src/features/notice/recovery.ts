import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import { flushSightings } from '../../sightings';
import { bannerOrigins } from './banner-sightings';
import { runtimeFor } from './runtime';
import { interruptedDeliveries } from './subscribers';

/** The banner counts as seen on TOYBOX when a page there loaded it within this window. */
export const SEEN_WITHIN_MS = 3600_000;

/**
 * Checklist line "notice": a notice is published, and TOYBOX's pages really
 * load the banner (requests to /banner.js or /api/notice from TOYBOX_URL's
 * origin within the last hour). A critical incident makes it urgent.
 */
export async function noticeRecoveryChecks(ctx: AppContext, now = new Date()): Promise<RecoveryCheck[]> {
  return [await bannerCheck(ctx, now), await mailCheck(ctx)];
}

/**
 * Checklist line "notice_mail": status e-mails cut off mid-send by a process that died. They are never sent
 * again (docs/design/exactly-once.md); the line names who may have missed one, for a week.
 */
async function mailCheck(ctx: AppContext): Promise<RecoveryCheck> {
  const lost = await interruptedDeliveries(ctx);
  if (!lost.length) return { id: 'notice_mail', state: 'done', detail: 'notice_mail.ok' };
  const emails = [...new Set(lost.map((d) => d.email))];
  const shown = emails.slice(0, 5).join(', ') + (emails.length > 5 ? ` (+${emails.length - 5})` : '');
  const first = lost.find((d) => d.claimed_at)?.claimed_at;
  return { id: 'notice_mail', state: 'warn', detail: first ? 'notice_mail.interrupted' : 'notice_mail.interrupted_undated', vars: { count: lost.length, emails: shown, ...(first ? { at: first } : {}) } };
}

async function bannerCheck(ctx: AppContext, now: Date): Promise<RecoveryCheck> {
  const rt = runtimeFor(ctx);
  await rt.sync();
  const { active, history } = rt.snapshot;
  const urgent = active.some((n) => n.kind === 'incident' && n.severity === 'critical');
  if (!active.length) {
    const last = history[0];
    if (last) return { id: 'notice', state: 'done', detail: 'notice.resolved', vars: { at: new Date(last.resolvedAt ?? last.updatedAt) } };
    return { id: 'notice', state: 'todo', detail: 'notice.none' };
  }
  await flushSightings(ctx.knex);
  const origins = ctx.config.TOYBOX_ORIGINS;
  const seen = await bannerOrigins(ctx.knex);
  // any origin TOYBOX_URL lists counts as TOYBOX (www and bare domain, say)
  const fromToybox = seen.find((s) => origins.includes(s.key));
  const toybox = fromToybox?.key ?? origins[0]!;
  if (fromToybox && now.getTime() - fromToybox.last_seen.getTime() <= SEEN_WITHIN_MS) {
    return { id: 'notice', state: 'done', detail: 'notice.seen', vars: { count: active.length, origin: toybox, at: fromToybox.last_seen }, urgent };
  }
  if (fromToybox) return { id: 'notice', state: 'warn', detail: 'notice.seen_long_ago', vars: { origin: toybox, at: fromToybox.last_seen }, urgent };
  const other = seen[0];
  if (other) return { id: 'notice', state: 'warn', detail: 'notice.seen_elsewhere', vars: { origin: toybox, other: other.key, at: other.last_seen }, urgent };
  return { id: 'notice', state: 'warn', detail: 'notice.not_seen', vars: { count: active.length, origin: toybox }, urgent };
}
