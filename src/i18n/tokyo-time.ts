import { translator, type Lang } from './index';

// TOYBOX shows Japan time everywhere; the database stores UTC.

const TZ = 'Asia/Tokyo';

/** "2026-12-01T02:00" (a datetime-local value, Japan time) or an ISO time with offset -> Date. */
export function parseTokyoTime(value: string): Date | null {
  const v = value.trim();
  if (!v) return null;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(v);
  const normalised = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00` : v.replace(' ', 'T');
  const d = new Date(hasZone ? normalised : `${normalised}${normalised.length === 16 ? ':00' : ''}+09:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A Date as a datetime-local input value in Japan time. */
export function toTokyoInput(date: Date | null): string {
  if (!date) return '';
  const parts = new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(date);
  return parts.replace(' ', 'T');
}

/** Japan time for people: "2026/12/01 02:00" / "1 Dec 2026, 02:00". */
export function formatTokyo(date: Date | string, lang: Lang): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: TZ,
    year: 'numeric',
    month: lang === 'ja' ? '2-digit' : 'short',
    day: lang === 'ja' ? '2-digit' : 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);
}

/** The day (YYYY-MM-DD) a moment falls on in Japan. */
export function tokyoDay(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  return new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export function formatWindow(starts: Date | null, ends: Date | null, lang: Lang): string {
  if (!starts && !ends) return '';
  const suffix = translator(lang)('common.japan_time_suffix');
  const a = starts ? formatTokyo(starts, lang) : '';
  const b = ends ? formatTokyo(ends, lang) : '';
  return `${a}${a && b ? ' – ' : ''}${b}${suffix}`;
}

/** Just the clock time in Japan ("14:05"), for "try again after ..." messages. */
export function formatTokyoClock(date: Date): string {
  return `${new Intl.DateTimeFormat('ja-JP', { timeZone: TZ, hour: '2-digit', minute: '2-digit' }).format(date)} JST`;
}

const PARTS = new Intl.DateTimeFormat('sv-SE', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

function tokyoParts(date: Date | string): { day: string; hm: string; hms: string } {
  const d = typeof date === 'string' ? new Date(date) : date;
  const [day, time] = PARTS.format(d).split(' ');
  return { day, hm: time.slice(0, 5), hms: time };
}

/**
 * The one way the portal prints a moment for people: Japan time, labelled,
 * the same in both languages, pages, e-mails and the CLI ("2026-01-23 00:30 JST").
 */
export function formatJst(date: Date | string): string {
  const p = tokyoParts(date);
  return `${p.day} ${p.hm} JST`;
}

/** ISO 8601 in Japan time with its offset, for CSV and JSON people open ("2026-01-23T00:30:00+09:00"). */
export function isoTokyo(date: Date | string): string {
  const p = tokyoParts(date);
  return `${p.day}T${p.hms}+09:00`;
}
