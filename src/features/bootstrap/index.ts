import type { Feature } from '../feature';
import { logger } from '../../logger';
import { bootstrapRoutes } from './routes';
import { ensureBootstrapToken } from './tokens';
import { bootstrapPanel } from './panel';
import { registerBootstrapCommands } from './cli';
import { bootstrapRecoveryChecks } from './recovery';

/**
 * Admin bootstrap: when TOYBOX has no active superuser, a one-time token
 * (file + log) opens /setup; the CLI's `admin` commands do the same from the
 * host's shell, and promote or reset existing accounts.
 */
export const feature: Feature = {
  name: 'bootstrap',
  routes: bootstrapRoutes,
  async start(ctx) {
    // A failed check must not keep the portal down: the operator still has `admin setup-token` and `admin create`.
    await ensureBootstrapToken(ctx).catch((err: unknown) => logger.error({ err }, 'bootstrap token check failed; run `recovery-portal admin setup-token`'));
    return async () => undefined;
  },
  dashboard: (ctx) => bootstrapPanel(ctx),
  recoveryChecks: bootstrapRecoveryChecks,
  cli: registerBootstrapCommands,
};
