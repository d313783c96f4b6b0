import { parseExpression } from 'cron-parser';
import type { AppContext } from '../../app-context';
import { logger } from '../../logger';
import { onWriteFailure } from '../../files/write-failures';
import { backupNow, evaluateAlerts } from './service';
import { type BackupKind } from './repo';
import { recoverInterruptedBackups } from './run';
import { startBackupWorker } from './jobs';

export const SCHEDULE_TZ = 'Asia/Tokyo';

/** The next time a cron expression fires after `after`, read in Japan time. */
export function nextRun(expression: string, after: Date): Date {
  return parseExpression(expression, { tz: SCHEDULE_TZ, currentDate: after }).next().toDate();
}

/** Timers never sleep longer than this, so a suspended VM or a clock jump is noticed soon after. */
const MAX_SLEEP_MS = 60_000;

/**
 * Schedules one kind of backup. Every instance runs this loop; the advisory
 * lock and the unique (kind, scheduled_for) slot make exactly one of them
 * take each run.
 */
function scheduleBackups(ctx: AppContext, kind: BackupKind, expression: string): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<unknown> = Promise.resolve();
  let due = nextRun(expression, new Date());
  const tick = async () => {
    if (stopped) return;
    if (Date.now() >= due.getTime()) {
      const slot = due;
      due = nextRun(expression, new Date(Math.max(Date.now(), slot.getTime())));
      const run = backupNow(ctx, kind, { trigger: 'schedule', scheduledFor: slot }).then(
        (backup) => backup && logger.info({ id: backup.id, kind, status: backup.status }, 'scheduled backup finished'),
        (err: unknown) => logger.error({ err, kind }, 'scheduled backup failed'),
      );
      inFlight = run;
      await run;
    }
    if (!stopped) timer = setTimeout(() => void tick(), Math.min(MAX_SLEEP_MS, Math.max(0, due.getTime() - Date.now())));
  };
  timer = setTimeout(() => void tick(), Math.min(MAX_SLEEP_MS, Math.max(0, due.getTime() - Date.now())));
  // Stopping waits for a running backup: killing pg_dump half-way would only leave a failed row behind.
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await inFlight;
  };
}

/** Re-evaluates alert conditions every MONITOR_INTERVAL_SECONDS (free space, writability, staleness). */
function scheduleAlertChecks(ctx: AppContext): { stop: () => void; idle: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(() =>
      recoverBackups(ctx).then(() => evaluateAlerts(ctx)).then(
        () => undefined,
        (err: unknown) => logger.error({ err }, 'alert evaluation failed'),
      ),
    );
  };
  run();
  const interval = setInterval(run, ctx.config.MONITOR_INTERVAL_SECONDS * 1000);
  // A failed write anywhere in this process (disk full) is alerted at once, not at the next tick.
  const unsubscribe = onWriteFailure(() => run());
  return {
    stop: () => {
      clearInterval(interval);
      unsubscribe();
    },
    idle: () => running,
  };
}

/** Backups whose process is gone are failed before anything else runs; errors are logged, never thrown. */
async function recoverBackups(ctx: AppContext): Promise<void> {
  await recoverInterruptedBackups(ctx).catch((err: unknown) => logger.error({ err }, 'could not close interrupted backups'));
}

/** Starts the backup schedules and the alert checks; the returned function stops them. */
export async function startBackgroundWork(ctx: AppContext): Promise<() => Promise<void>> {
  await recoverBackups(ctx);
  const stops = [scheduleBackups(ctx, 'database', ctx.config.BACKUP_DB_CRON)];
  if (ctx.config.TOYBOX_MEDIA_DIR) stops.push(scheduleBackups(ctx, 'media', ctx.config.BACKUP_MEDIA_CRON));
  const alerts = scheduleAlertChecks(ctx);
  // Embedded mode: the CLI cannot open the PGlite files this process holds, so its `backup run` comes here as a job.
  if (ctx.config.embedded) await startBackupWorker(ctx);
  return async () => {
    alerts.stop();
    for (const stop of stops) await stop();
    await alerts.idle();
  };
}
