import type { Feature } from '../feature';
import { isStaff } from '../../auth/user';
import { adminBackupRoutes, metricsRoutes } from './routes';
import { registerBackupCommands } from './cli';
import { backupBackground } from './background';
import { overview } from './service';
import { backupRecoveryChecks } from './recovery';

/**
 * Backups and monitoring: scheduled, verified, restorable backups of the
 * TOYBOX database and media; /metrics; alerts to the superusers.
 */
export const feature: Feature = {
  name: 'backups',
  publicRoutes: metricsRoutes,
  routes: adminBackupRoutes,
  background: backupBackground,
  async dashboard(ctx, req) {
    if (!isStaff(req.user)) return null;
    const data = await overview(ctx);
    return { partial: 'backups/panel', locals: { ...data, backups: data.backups.slice(0, 5) } };
  },
  recoveryChecks: (ctx) => backupRecoveryChecks(ctx),
  cli: registerBackupCommands,
};
