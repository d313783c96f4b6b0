import { detectWipe, wipeRuleFrom } from '../../src/features/backups/wipe-guard';
import { activeConditions } from '../../src/features/backups/alerts';
import { nextRun } from '../../src/jobs/schedule';
import type { Health } from '../../src/features/backups/health';

const rule = wipeRuleFrom({ BACKUP_WIPE_TABLES: 'users,submissions', BACKUP_WIPE_MAX_DROP: 0.5 });

describe('wipe guard', () => {
  it('flags users or submissions falling by more than half, or to zero', () => {
    expect(detectWipe({ users: 100, submissions: 40 }, { users: 49, submissions: 40 }, rule)).toEqual(['users: 100 -> 49 (-51%)']);
    expect(detectWipe({ users: 100, submissions: 40 }, { users: 100, submissions: 0 }, rule)).toEqual(['submissions: 40 -> 0']);
    expect(detectWipe({ users: 1, submissions: 0 }, { users: 0, submissions: 0 }, rule)).toEqual(['users: 1 -> 0']);
  });

  it('accepts normal change, growth, and a first backup', () => {
    expect(detectWipe({ users: 100, submissions: 40 }, { users: 50, submissions: 39 }, rule)).toEqual([]);
    expect(detectWipe({ users: 0, submissions: 0 }, { users: 5, submissions: 2 }, rule)).toEqual([]);
    expect(detectWipe(null, { users: 0 }, rule)).toEqual([]);
  });
});

describe('alert conditions', () => {
  const now = new Date('2026-06-02T12:00:00Z');
  const base: Health = {
    databaseUp: true,
    dirs: [
      { label: 'DATA_DIR', path: '/d', writable: true, freeBytes: 1e9, freeRatio: 0.5 },
      { label: 'BACKUP_DIR', path: '/b', writable: true, freeBytes: 1e9, freeRatio: 0.5 },
    ],
    suspects: [],
    installedAt: new Date('2026-06-02T00:00:00Z'),
    writeFailures: [],
  };
  const limits = { staleHours: 26, minFreePercent: 10 };

  it('is quiet when all is well, even before the first backup on a fresh install', () => {
    expect(activeConditions(base, now, limits)).toEqual([]);
  });

  it('names each failing directory and low disk separately', () => {
    const h: Health = { ...base, dirs: [base.dirs[0]!, { ...base.dirs[1]!, writable: false, freeRatio: 0.05 }] };
    expect(activeConditions(h, now, limits).map((c) => c.condition)).toEqual(['dir_readonly:BACKUP_DIR', 'disk_low:BACKUP_DIR']);
  });

  it('raises backup_stale after 26 hours without a good backup', () => {
    const h: Health = { ...base, installedAt: new Date('2026-05-01T00:00:00Z') };
    expect(activeConditions(h, now, limits).map((c) => c.condition)).toEqual(['backup_stale']);
  });
});

describe('schedule', () => {
  it('reads cron in Japan time: 03:00 JST daily is 18:00 UTC', () => {
    expect(nextRun('0 3 * * *', new Date('2026-06-02T12:00:00Z')).toISOString()).toBe('2026-06-02T18:00:00.000Z');
    expect(nextRun('0 4 * * 0', new Date('2026-06-02T12:00:00Z')).toISOString()).toBe('2026-06-06T19:00:00.000Z'); // Sunday Jun 7, 04:00 JST
  });
});
