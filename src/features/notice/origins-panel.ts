import type { AppContext } from '../../app-context';
import type { Lang } from '../../i18n';
import { formatTokyo } from '../../i18n/tokyo-time';
import { flushSightings } from '../../sightings';
import { bannerOrigins, refusedOrigins } from './banner-sightings';

/** Loads older than this are not "recent" on the dashboard. */
const RECENT_MS = 24 * 3600_000;

export interface OriginLine {
  origin: string;
  at: string;
  hits: number;
  /** Listed in TOYBOX_URL (CORS allowed). */
  listed: boolean;
}

/**
 * The dashboard's view of where the banner runs: origins whose pages loaded it
 * in the last day, and origins whose cross-origin requests were refused
 * because TOYBOX_URL does not list them (the operator's cue to add them).
 */
export async function bannerOriginsPanel(ctx: AppContext, lang: Lang, now = Date.now()): Promise<{ allowedOrigins: readonly string[]; loadedFrom: OriginLine[]; refusedFrom: OriginLine[] }> {
  const listed = ctx.config.TOYBOX_ORIGINS;
  const line = (s: { key: string; last_seen: Date; hits: number }): OriginLine => ({ origin: s.key, at: formatTokyo(s.last_seen, lang), hits: s.hits, listed: listed.includes(s.key) });
  try {
    await flushSightings(ctx.knex);
    const [loads, refused] = await Promise.all([bannerOrigins(ctx.knex), refusedOrigins(ctx.knex)]);
    const recent = (s: { last_seen: Date }) => now - s.last_seen.getTime() <= RECENT_MS;
    return { allowedOrigins: listed, loadedFrom: loads.filter(recent).map(line), refusedFrom: refused.filter(recent).map(line) };
  } catch {
    // the database is down: the panel still shows the allow-list
    return { allowedOrigins: listed, loadedFrom: [], refusedFrom: [] };
  }
}
