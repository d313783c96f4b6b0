import type { AppContext } from '../../app-context';
import { logger } from '../../logger';
import { onWriteFailure, onWriteRecovered } from '../../files/write-failures';
import { triggerTimer, type BackgroundWork, type Tick } from '../../jobs/runner';
import { backupNow, evaluateAlerts } from './service';
import { type BackupKind } from './repo';
import { recoverInterruptedBackups } from './run';
import { runRequestedBackup } from './jobs';

/** A scheduled backup; the slot makes one instance take it (the others get null). Stopping waits for it: killing pg_dump half-way would only leave a failed row behind. */
function scheduledBackup(kind: BackupKind) {
  return async (ctx: AppContext, tick: Tick) => {
    const backup = await backupNow(ctx, kind, { trigger: 'schedule', scheduledFor: tick.scheduledFor });
    if (backup) logger.info({ id: backup.id, kind, status: backup.status }, 'scheduled backup finished');
  };
}

/** Backups whose process is gone are failed before anything else runs; errors are logged, never thrown. */
async function recoverBackups(ctx: AppContext): Promise<void> {
  await recoverInterruptedBackups(ctx).catch((err: unknown) => logger.error({ err }, 'could not close interrupted backups'));
}

const unsubscribers = new WeakMap<AppContext, () => void>();

/** Handlers for the backup entries of src/jobs/registry.ts (schedules, alert checks, the admin page's button). */
export const backupBackground: BackgroundWork = {
  async prepare(ctx) {
    await recoverBackups(ctx);
    // A failed write anywhere in this process (disk full) is alerted at once, not at the next tick.
    // A write that works again (the disk was freed) clears its alert at once too.
    const off = [onWriteFailure(() => triggerTimer(ctx, 'backupCheckAlerts')), onWriteRecovered(() => triggerTimer(ctx, 'backupCheckAlerts'))];
    unsubscribers.set(ctx, () => off.forEach((f) => f()));
  },
  async stop(ctx) {
    unsubscribers.get(ctx)?.();
    unsubscribers.delete(ctx);
  },
  queues: {
    backupRun: (ctx, request) => runRequestedBackup(ctx, request),
  },
  timers: {
    backupDatabase: scheduledBackup('database'),
    backupMedia: scheduledBackup('media'),
    async backupCheckAlerts(ctx) {
      await recoverBackups(ctx);
      await evaluateAlerts(ctx);
    },
  },
};
