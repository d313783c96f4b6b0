import { translator, type Lang } from '../../i18n';
import type { NoticeSnapshot } from './model';
import { escapeHtml } from '../../http/html';

/** An Atom feed with one entry per timeline update, newest first, in one language. */
export function atomFeed(snapshot: NoticeSnapshot, publicUrl: string, lang: Lang): string {
  const t = translator(lang);
  const host = new URL(publicUrl).hostname;
  const entries = [...snapshot.active, ...snapshot.history]
    .flatMap((n) => n.timeline.map((u) => ({ n, u })))
    .sort((a, b) => b.u.at.localeCompare(a.u.at));
  const updated = entries[0]?.u.at ?? snapshot.generatedAt;
  const body = entries
    .map(({ n, u }) =>
      [
        '<entry>',
        `<id>tag:${escapeHtml(host)},2026:notice-${n.id}-update-${u.id}</id>`,
        `<title>${escapeHtml(t('notice.feed.entry_title', { state: t(`notice.state.${u.state}`), title: n.title[lang] }))}</title>`,
        `<updated>${u.at}</updated>`,
        // the first update of an incident is when it began: the start time typed in, not the publish time
        `<published>${n.kind === 'incident' && u.id === n.timeline[0]?.id ? (n.startedAt ?? u.at) : u.at}</published>`,
        `<link rel="alternate" type="text/html" href="${escapeHtml(`${publicUrl}/status?lang=${lang}#notice-${n.id}`)}"/>`,
        `<category term="${n.severity}"/>`,
        `<content type="html">${escapeHtml(u.html[lang])}</content>`,
        '</entry>',
      ].join(''),
    )
    .join('\n');
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${lang}">`,
    `<id>${escapeHtml(`${publicUrl}/status`)}</id>`,
    `<title>${escapeHtml(t('notice.feed.title'))}</title>`,
    `<updated>${updated}</updated>`,
    `<link rel="self" type="application/atom+xml" href="${escapeHtml(`${publicUrl}/status.atom`)}"/>`,
    `<link rel="alternate" type="text/html" href="${escapeHtml(`${publicUrl}/status`)}"/>`,
    `<author><name>TOYBOX</name></author>`,
    body,
    '</feed>',
    '',
  ].join('\n');
}
