import type { Feature } from '../feature';
import { exportRoutes } from './routes';
import { exportKeyRoutes } from './key-routes';
import { exportBackground } from './background';
import { registerExportCli } from './cli';
import { jobStats } from './repo';

/** Personal data export: /export, GET /api/me/export, background archives, export-only sign-in links, signed archives and their verification. */
export const feature: Feature = {
  name: 'export',
  publicRoutes: exportKeyRoutes,
  routes: exportRoutes,
  background: exportBackground,
  async dashboard(ctx) {
    return { partial: 'export/panel', locals: { exportStats: await jobStats(ctx.knex) } };
  },
  cli: registerExportCli,
};
