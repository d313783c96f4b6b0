import { formatTokyoClock } from '../../../i18n/tokyo-time';
import type { CampaignProgress } from './service';

type Translate = (key: string, vars?: Record<string, string | number>) => string;

/** What the campaign page shows beside the counts; the same for the first paint and every poll. */
export interface ProgressDisplay {
  eta_text: string;
  percent_done: number;
  funnel_pct: { imported: string; sent: string; clicked: string; reregistered: string };
}

function pct(n: number, total: number): string {
  return total ? ((n * 100) / total).toFixed(1) : '0.0';
}

/** ETA as people read it: "about 3 min (until 14:05 Japan time)"; "-" when nothing is sending. */
export function progressDisplay(p: CampaignProgress, t: Translate, now = new Date()): ProgressDisplay {
  let eta = '-';
  if (p.eta_seconds !== null) {
    const minutes = Math.max(1, Math.ceil(p.eta_seconds / 60));
    const until = formatTokyoClock(new Date(now.getTime() + p.eta_seconds * 1000));
    eta = t('campaigns.show.eta_text', { minutes, until }); // the clock carries its JST label
  }
  const done = p.sent + p.failed + p.skipped;
  return {
    eta_text: eta,
    percent_done: p.total ? Math.round((done * 100) / p.total) : 0,
    funnel_pct: { imported: pct(p.total, p.total), sent: pct(p.sent, p.total), clicked: pct(p.clicked, p.total), reregistered: pct(p.reregistered, p.total) },
  };
}
