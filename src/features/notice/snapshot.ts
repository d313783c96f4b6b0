import type { Knex } from 'knex';
import { renderMarkdown } from './markdown';
import { formatWindow } from '../../i18n/tokyo-time';
import { translator, type Lang } from '../../i18n';
import { CLOSED_STATES, type NoticeRow, type NoticeUpdateRow, type NoticeSnapshot, type PublicNotice, type Bilingual } from './model';
import { currentVersion, selectPublicNotices, selectUpdates } from './repo';

export const HISTORY_DAYS = 90;

function both(ja: string, en: string): Bilingual {
  const htmlJa = renderMarkdown(ja);
  return { ja: htmlJa, en: en.trim() ? renderMarkdown(en) : htmlJa };
}

/** "Started 12/4 20:05 (Japan time)" for an incident whose start time was typed in; maintenance shows its window. */
function whenText(n: Pick<NoticeRow, 'kind' | 'starts_at' | 'ends_at'>, lang: Lang): string {
  if (n.kind === 'maintenance') return formatWindow(n.starts_at, n.ends_at, lang);
  if (!n.starts_at) return '';
  return translator(lang)('notice.started_at', { at: formatWindow(n.starts_at, null, lang) });
}

/** One notice as the public sees it; also used for the admin preview, so the preview is the real thing. */
export function toPublicNotice(n: Omit<NoticeRow, 'created_by' | 'created_at'>, updates: Array<Pick<NoticeUpdateRow, 'id' | 'at' | 'state' | 'body_ja' | 'body_en'>>): PublicNotice {
  const timeline = updates.map((u) => ({ id: u.id, at: u.at.toISOString(), state: u.state, html: both(u.body_ja, u.body_en) }));
  const latest = timeline[timeline.length - 1];
  return {
    id: n.id,
    kind: n.kind,
    severity: n.severity,
    state: n.state,
    version: n.version,
    title: { ja: n.title_ja, en: n.title_en.trim() || n.title_ja },
    message: latest ? latest.html : both(n.body_ja, n.body_en),
    when: { ja: whenText(n, 'ja'), en: whenText(n, 'en') },
    startsAt: n.starts_at ? n.starts_at.toISOString() : null,
    endsAt: n.ends_at ? n.ends_at.toISOString() : null,
    publishedAt: (n.published_at ?? n.updated_at).toISOString(),
    components: n.components ?? [],
    startedAt: (n.kind === 'incident' && n.starts_at ? n.starts_at : (n.published_at ?? n.updated_at)).toISOString(),
    updatedAt: n.updated_at.toISOString(),
    resolvedAt: n.resolved_at ? n.resolved_at.toISOString() : null,
    timeline,
  };
}

/**
 * Reads what the public side serves. The version is read first, so a
 * snapshot never claims a version newer than its rows; a publish landing in
 * between is picked up by the next version check.
 */
export async function loadSnapshot(knex: Knex): Promise<NoticeSnapshot> {
  const version = await currentVersion(knex);
  const rows = await selectPublicNotices(knex, HISTORY_DAYS);
  const updates = await selectUpdates(knex, rows.map((r) => r.id));
  const byNotice = new Map<number, NoticeUpdateRow[]>();
  for (const u of updates) byNotice.set(u.notice_id, [...(byNotice.get(u.notice_id) ?? []), u]);
  const all = rows.map((r) => toPublicNotice(r, byNotice.get(r.id) ?? []));
  const open = all.filter((n) => !CLOSED_STATES.includes(n.state));
  const severityRank = { critical: 0, warning: 1, info: 2 } as const;
  open.sort((a, b) => severityRank[a.severity] - severityRank[b.severity] || b.publishedAt.localeCompare(a.publishedAt));
  return {
    version,
    generatedAt: new Date().toISOString(),
    active: open,
    history: all.filter((n) => CLOSED_STATES.includes(n.state)).sort((a, b) => (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? '')),
  };
}
