import { Router } from 'express';
import type { Feature } from '../feature';
import { noticePublicRoutes } from './public-routes';
import { adminNoticeRoutes } from './routes';
import { createNoticeFastPath } from './fast-path';
import { registerNoticeCommands } from './cli';
import { noticeRecoveryChecks } from './recovery';
import { runtimeFor } from './runtime';
import { subscribeRoutes, subscriptionLinkRoutes } from './subscribe-routes';
import { noticeBackground } from './background';
import { formatJst } from '../../i18n/tokyo-time';
import { bannerOriginsPanel } from './origins-panel';

/**
 * The incident notice: the banner on every TOYBOX page, /api/notice, the
 * status page and its feed, served from memory (and snapshot files) so they
 * keep working while the database is down; staff pages and CLI to publish.
 */
export const feature: Feature = {
  name: 'notice',
  publicRoutes: (ctx) => Router().use(noticePublicRoutes(ctx), subscriptionLinkRoutes(ctx)),
  routes: (ctx) => Router().use(subscribeRoutes(ctx), adminNoticeRoutes(ctx)),
  fastPath: (ctx) => createNoticeFastPath(ctx),
  async start(ctx) {
    const rt = runtimeFor(ctx);
    await rt.sync();
    return rt.startSync();
  },
  // status e-mails (src/jobs/registry.ts): worker instances only
  background: noticeBackground,
  async dashboard(ctx, req) {
    const rt = runtimeFor(ctx);
    const origins = await bannerOriginsPanel(ctx, req.lang);
    return {
      partial: 'notice/panel',
      locals: {
        activeCount: rt.snapshot.active.length,
        version: rt.snapshot.version,
        stale: rt.lastError !== null,
        syncedAt: rt.lastSyncAt ? formatJst(rt.lastSyncAt) : '-',
        ...origins,
      },
    };
  },
  recoveryChecks: (ctx) => noticeRecoveryChecks(ctx),
  cli: registerNoticeCommands,
};
