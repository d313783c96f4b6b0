import type { Feature } from '../feature';
import { registerSalvageCommands } from './cli';
import { adminSalvageRoutes } from './routes';
import { salvageRecoveryChecks } from './recovery';

/**
 * Salvage: finds and catalogues what survived the wipe (uploads, old databases,
 * Discord shares, container logs) and ties each trace to an old user id.
 */
export const feature: Feature = {
  name: 'salvage',
  routes: adminSalvageRoutes,
  recoveryChecks: salvageRecoveryChecks,
  cli: registerSalvageCommands,
};
