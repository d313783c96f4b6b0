import { selectPrunable, selectRetained, weekKey, type RetentionCandidate } from '../../src/features/backups/retention';

const POLICY = { daily: 7, weekly: 4, monthly: 6 };

/** 03:00 Japan time on a calendar date = 18:00 UTC the day before. */
function at3amJst(date: string): Date {
  return new Date(`${date}T03:00:00+09:00`);
}

function dayString(d: Date): string {
  return new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** Runs a year of nightly backups, pruning after each one exactly as the portal does. */
function simulate(dates: string[], statusOf: (date: string) => string = () => 'good'): RetentionCandidate[] {
  let kept: RetentionCandidate[] = [];
  let id = 0;
  for (const date of dates) {
    kept.push({ id: ++id, startedAt: at3amJst(date), status: statusOf(date) });
    const prune = new Set(selectPrunable(kept, POLICY));
    kept = kept.filter((b) => !prune.has(b.id));
  }
  return kept;
}

function everyDay(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d = new Date(d.getTime() + 86_400_000)) out.push(d.toISOString().slice(0, 10));
  return out;
}

describe('backup retention (7 daily, 4 weekly, 6 monthly)', () => {
  it('keeps exactly the expected set after a year of nightly backups', () => {
    const kept = simulate(everyDay('2026-01-01', '2026-12-31'));
    expect(kept.map((b) => dayString(b.startedAt)).sort()).toEqual([
      '2026-07-31', // monthly: last backup of each of the 6 newest months
      '2026-08-31',
      '2026-09-30',
      '2026-10-31',
      '2026-11-30',
      '2026-12-13', // weekly: Sunday ending ISO weeks 50 and 51
      '2026-12-20',
      '2026-12-25', // daily: the 7 newest days (Dec 27 is also week 52's Sunday, Dec 31 month and week 53)
      '2026-12-26',
      '2026-12-27',
      '2026-12-28',
      '2026-12-29',
      '2026-12-30',
      '2026-12-31',
    ]);
  });

  it('counts days that have backups, so a month-long outage does not age the good copies away', () => {
    const dates = [...everyDay('2026-01-01', '2026-05-31')];
    const kept = simulate(dates);
    // Nothing new for a month: pruning on 2026-07-01 with no new backup changes nothing.
    expect(selectPrunable(kept, POLICY)).toEqual([]);
    expect(kept.map((b) => dayString(b.startedAt))).toContain('2026-05-31');
    expect(kept.filter((b) => dayString(b.startedAt) >= '2026-05-25')).toHaveLength(7);
  });

  it('never prunes the newest good backup even when every newer one is bad or suspect', () => {
    const dates = everyDay('2026-03-01', '2026-03-20');
    const backups = dates.map((d, i) => ({ id: i + 1, startedAt: at3amJst(d), status: d >= '2026-03-10' ? 'bad' : 'good' }));
    const retained = selectRetained(backups, { daily: 1, weekly: 0, monthly: 0 });
    expect([...retained]).toEqual([9]); // 2026-03-09, the newest good
    const prunable = selectPrunable(backups, { daily: 1, weekly: 0, monthly: 0 });
    expect(prunable).not.toContain(9);
    expect(prunable).toHaveLength(8); // only good ones are ever pruned; bad ones stay as evidence
  });

  it('buckets by Japan time: 23:30 UTC is already the next day in Tokyo', () => {
    const backups = [
      { id: 1, startedAt: new Date('2026-04-01T14:00:00Z'), status: 'good' }, // 23:00 JST Apr 1
      { id: 2, startedAt: new Date('2026-04-01T15:30:00Z'), status: 'good' }, // 00:30 JST Apr 2
    ];
    expect([...selectRetained(backups, { daily: 2, weekly: 0, monthly: 0 })].sort()).toEqual([1, 2]);
  });

  it('uses ISO weeks across the year boundary', () => {
    expect(weekKey(at3amJst('2026-12-31'))).toBe('2026-W53');
    expect(weekKey(at3amJst('2027-01-03'))).toBe('2026-W53');
    expect(weekKey(at3amJst('2027-01-04'))).toBe('2027-W01');
  });
});

describe('wipe guard after acknowledgement (keep the last good backup from before a drop for 30 days)', () => {
  const KEEP = { daily: 1, weekly: 0, monthly: 0 };
  // Mar 1-9 good; Mar 10 the drop (suspect, acknowledged on Mar 12); Mar 11-20 good again.
  const dropAt = at3amJst('2026-03-10');
  const ackAt = new Date('2026-03-12T10:00:00+09:00');
  const backups: RetentionCandidate[] = everyDay('2026-03-01', '2026-03-20').map((d, i) => ({
    id: i + 1,
    startedAt: at3amJst(d),
    status: 'good',
    wipeSuspect: d === '2026-03-10',
    acknowledgedAt: d === '2026-03-10' ? ackAt : null,
  }));
  const days = (n: number) => new Date(ackAt.getTime() + n * 86_400_000);

  it('keeps the newest good backup from before the acknowledged drop for the configured days', () => {
    expect(selectPrunable(backups, KEEP)).toContain(9); // retention alone would delete Mar 9
    const prunable = selectPrunable(backups, KEEP, { now: days(1), days: 30 });
    expect(prunable).not.toContain(9);
    expect(prunable).toContain(8); // only the last one before the drop is held
    expect(prunable).toContain(10); // the acknowledged drop itself is an ordinary good backup
    expect(prunable).not.toContain(20); // the newest is kept as ever
  });

  it('counts the days from the acknowledgement, then lets retention have it', () => {
    expect(selectPrunable(backups, KEEP, { now: days(29.9), days: 30 })).not.toContain(9);
    expect(selectPrunable(backups, KEEP, { now: days(30), days: 30 })).toContain(9);
    expect(selectPrunable(backups, KEEP, { now: days(0), days: 0 })).toContain(9);
  });

  it('holds the copy from before the drop while the drop awaits acknowledgement, counted from the drop', () => {
    const unacked = backups.map((b) => (b.id === 10 ? { ...b, status: 'suspect', acknowledgedAt: null } : b));
    expect(selectPrunable(unacked, KEEP, { now: new Date(dropAt.getTime() + 86_400_000), days: 30 })).not.toContain(9);
  });
});
