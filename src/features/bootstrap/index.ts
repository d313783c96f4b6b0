import type { Feature } from '../feature';
import { bootstrapRoutes } from './routes';
import { ensureBootstrapToken } from './tokens';
import { bootstrapPanel } from './panel';
import { registerBootstrapCommands } from './cli';

/**
 * Admin bootstrap: when TOYBOX has no active superuser, a one-time token
 * (file + log) opens /setup; the CLI's `admin` commands do the same from the
 * host's shell, and promote or reset existing accounts.
 */
export const feature: Feature = {
  name: 'bootstrap',
  routes: bootstrapRoutes,
  async start(ctx) {
    await ensureBootstrapToken(ctx);
    return async () => undefined;
  },
  dashboard: (ctx) => bootstrapPanel(ctx),
  cli: registerBootstrapCommands,
};
