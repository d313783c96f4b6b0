/**
 * Grandfather-father-son retention, decided on dates alone so it can be
 * tested over a simulated year. Buckets are days, ISO weeks and months in
 * Japan time (UTC+9, no daylight saving). Like restic's --keep-daily, "the
 * last 7 days" means the 7 most recent days that HAVE a good backup: if
 * backups stop for a month, the old good copies stay instead of ageing out.
 */
export interface RetentionCandidate {
  id: number;
  startedAt: Date;
  status: string;
  /** The wipe guard flagged this backup (it stays flagged after acknowledgement). */
  wipeSuspect?: boolean;
  acknowledgedAt?: Date | null;
}

/** How long the last good backup from before a suspect drop outlives the acknowledgement. */
export interface WipeKeep {
  now: Date;
  days: number;
}

export interface KeepPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

const JST_OFFSET_MS = 9 * 3600 * 1000;

function jst(d: Date): Date {
  return new Date(d.getTime() + JST_OFFSET_MS);
}

export function dayKey(d: Date): string {
  return jst(d).toISOString().slice(0, 10);
}

export function monthKey(d: Date): string {
  return jst(d).toISOString().slice(0, 7);
}

/** ISO 8601 week (Monday first) of the Japan-time date, e.g. "2026-W53". */
export function weekKey(d: Date): string {
  const t = jst(d);
  const date = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday decides the ISO year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

function newestPerBucket(good: RetentionCandidate[], key: (d: Date) => string, count: number): number[] {
  const kept: number[] = [];
  const seen = new Set<string>();
  for (const b of good) {
    if (seen.size >= count) break;
    const k = key(b.startedAt);
    if (seen.has(k)) continue;
    seen.add(k);
    kept.push(b.id);
  }
  return kept;
}

/**
 * The ids of good backups to keep. Only `good` backups count; the caller
 * never deletes suspect, running or unacknowledged ones. The newest good
 * backup is always kept, whatever the policy says.
 */
export function selectRetained(backups: RetentionCandidate[], keep: KeepPolicy): Set<number> {
  const good = backups
    .filter((b) => b.status === 'good')
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id);
  const kept = new Set<number>([
    ...newestPerBucket(good, dayKey, keep.daily),
    ...newestPerBucket(good, weekKey, keep.weekly),
    ...newestPerBucket(good, monthKey, keep.monthly),
  ]);
  if (good[0]) kept.add(good[0].id);
  return kept;
}

/**
 * The ids of the last good backup from before each suspect drop, for
 * `days` after the drop was acknowledged (or after the drop itself while it
 * is not). Acknowledging says the drop was intended; if that was a mistake,
 * the copy from before it must still be there, whatever retention says.
 */
export function selectWipeGuarded(backups: RetentionCandidate[], guard: WipeKeep): Set<number> {
  const byAge = [...backups].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id - a.id);
  const kept = new Set<number>();
  byAge.forEach((drop, i) => {
    if (!drop.wipeSuspect) return;
    const since = Math.max(drop.startedAt.getTime(), drop.acknowledgedAt?.getTime() ?? 0);
    if (guard.now.getTime() - since >= guard.days * 86_400_000) return;
    const before = byAge.slice(i + 1).find((b) => b.status === 'good');
    if (before) kept.add(before.id);
  });
  return kept;
}

/** Good backups outside the retained set and the wipe guard's: what pruning may delete. */
export function selectPrunable(backups: RetentionCandidate[], keep: KeepPolicy, guard?: WipeKeep): number[] {
  const kept = selectRetained(backups, keep);
  const guarded = guard ? selectWipeGuarded(backups, guard) : new Set<number>();
  return backups.filter((b) => b.status === 'good' && !kept.has(b.id) && !guarded.has(b.id)).map((b) => b.id);
}
