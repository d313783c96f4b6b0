import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import { flushSightings, readSightings } from '../../sightings';
import { activeSuperuserEmails } from '../../toybox/alert-recipients';
import { collectHealth, type Health } from './health';
import { lastTestAlert } from './test-alert';

export const METRICS_SCRAPE = 'metrics_scrape';
/** A Prometheus scrapes every 15-60 s; ten minutes without one means nobody is watching. */
const SCRAPED_WITHIN_MS = 10 * 60_000;
const MEDIA_STALE_MS = 8 * 86_400_000;
const TEST_ALERT_VALID_MS = 30 * 86_400_000;

function databaseBackupCheck(ctx: AppContext, h: Health, now: Date): RecoveryCheck {
  const good = h.lastGoodDatabase;
  if (!good) return { id: 'backup_database', state: 'todo', detail: 'backup.none' };
  const at = good.finished_at ?? good.started_at;
  const hours = Math.floor((now.getTime() - at.getTime()) / 3600_000);
  if (hours >= ctx.config.BACKUP_STALE_HOURS) return { id: 'backup_database', state: 'warn', detail: 'backup.stale', vars: { id: good.id, at, hours } };
  const drill = h.lastDrill;
  if (drill && drill.ok === false) return { id: 'backup_database', state: 'fail', detail: 'backup.drill_failed', vars: { id: drill.backup_id, error: (drill.error ?? drill.mismatches.join('; ')).slice(0, 200) } };
  if (!drill) return { id: 'backup_database', state: 'warn', detail: 'backup.no_drill', vars: { id: good.id, at } };
  return { id: 'backup_database', state: 'done', detail: 'backup.good', vars: { id: good.id, at, drill_id: drill.backup_id, drill_at: drill.finished_at ?? drill.started_at } };
}

function mediaBackupCheck(ctx: AppContext, h: Health, now: Date): RecoveryCheck {
  if (!ctx.config.TOYBOX_MEDIA_DIR) return { id: 'backup_media', state: 'todo', detail: 'media.not_configured' };
  const good = h.lastGoodMedia;
  if (!good) return { id: 'backup_media', state: 'todo', detail: 'media.none' };
  const at = good.finished_at ?? good.started_at;
  if (now.getTime() - at.getTime() > MEDIA_STALE_MS) return { id: 'backup_media', state: 'warn', detail: 'media.stale', vars: { id: good.id, at } };
  return { id: 'backup_media', state: 'done', detail: 'media.good', vars: { id: good.id, at } };
}

function offhostCheck(ctx: AppContext, h: Health): RecoveryCheck {
  if (!ctx.config.BACKUP_OFFHOST_COMMAND) return { id: 'offhost', state: 'todo', detail: 'offhost.not_configured' };
  const good = h.lastGoodDatabase;
  if (!good || good.offhost_exit_code === null) return { id: 'offhost', state: 'todo', detail: 'offhost.not_yet' };
  if (good.offhost_exit_code !== 0) return { id: 'offhost', state: 'fail', detail: 'offhost.failed', vars: { id: good.id, code: good.offhost_exit_code } };
  return { id: 'offhost', state: 'done', detail: 'offhost.ok', vars: { id: good.id, at: good.offhost_at ?? good.started_at } };
}

async function alertsCheck(ctx: AppContext, now: Date): Promise<RecoveryCheck> {
  const recipients = (await activeSuperuserEmails(ctx.knex)).length;
  const channels = [ctx.mailer.kind === 'smtp' ? 'smtp' : null, ctx.config.ALERT_WEBHOOK_URL ? 'webhook' : null].filter(Boolean);
  if (!channels.length || (recipients === 0 && !ctx.config.ALERT_WEBHOOK_URL)) return { id: 'alerts', state: 'todo', detail: 'alerts.not_configured', vars: { recipients } };
  const test = await lastTestAlert(ctx);
  if (!test || now.getTime() - test.at.getTime() > TEST_ALERT_VALID_MS) return { id: 'alerts', state: 'warn', detail: 'alerts.no_test', vars: { recipients, channels: channels.join(', ') } };
  if (test.error) return { id: 'alerts', state: 'fail', detail: 'alerts.test_failed', vars: { at: test.at, error: test.error } };
  return { id: 'alerts', state: 'done', detail: 'alerts.test_ok', vars: { at: test.at, recipients: test.recipients, channels: channels.join(', ') } };
}

function diskCheck(ctx: AppContext, h: Health): RecoveryCheck {
  const unwritable = h.dirs.find((d) => !d.writable);
  if (unwritable) return { id: 'disk', state: 'fail', detail: 'disk.readonly', vars: { dir: unwritable.label, path: unwritable.path } };
  const low = h.dirs.find((d) => d.freeRatio !== null && d.freeRatio * 100 < ctx.config.ALERT_MIN_FREE_PERCENT);
  const summary = h.dirs.map((d) => `${d.label} ${d.freeRatio === null ? '?' : Math.round(d.freeRatio * 100)}%`).join(', ');
  if (low) return { id: 'disk', state: 'warn', detail: 'disk.low', vars: { dir: low.label, summary } };
  return { id: 'disk', state: 'done', detail: 'disk.ok', vars: { summary } };
}

async function metricsCheck(ctx: AppContext, now: Date): Promise<RecoveryCheck> {
  await flushSightings(ctx.knex);
  const [last] = await readSightings(ctx.knex, METRICS_SCRAPE);
  if (!last) return { id: 'metrics', state: 'todo', detail: 'metrics.never' };
  if (now.getTime() - last.last_seen.getTime() > SCRAPED_WITHIN_MS) return { id: 'metrics', state: 'warn', detail: 'metrics.stale', vars: { at: last.last_seen } };
  return { id: 'metrics', state: 'done', detail: 'metrics.ok', vars: { at: last.last_seen, via: last.key } };
}

/**
 * Checklist lines owned by backups and monitoring: the database backup and
 * its restore drill, media backup, off-host copy, alerts (with a test alert),
 * disk space, and /metrics being scraped.
 */
export async function backupRecoveryChecks(ctx: AppContext, now = new Date()): Promise<RecoveryCheck[]> {
  const h = await collectHealth(ctx);
  return [
    databaseBackupCheck(ctx, h, now),
    mediaBackupCheck(ctx, h, now),
    offhostCheck(ctx, h),
    diskCheck(ctx, h),
    await alertsCheck(ctx, now),
    await metricsCheck(ctx, now),
  ];
}
