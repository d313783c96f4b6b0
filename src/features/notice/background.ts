import type { BackgroundWork } from '../../jobs/runner';
import { runtimeFor } from './runtime';
import { deliverUpdates, kickOnNewVersion, sendConfirmMail } from './subscribers';

/**
 * Handlers for the notice entries of src/jobs/registry.ts: status e-mails, on worker instances only. The
 * notice cache's own poll (every instance) is started with its LISTEN connection by NoticeRuntime.startSync.
 */
export const noticeBackground: BackgroundWork = {
  queues: {
    noticeConfirmMail: (ctx, { subscriberId, nonce }) => sendConfirmMail(ctx, Number(subscriberId), String(nonce)),
    noticeFanout: async (ctx) => void (await deliverUpdates(ctx)),
  },
  timers: {
    noticeMailKick: (ctx) => kickOnNewVersion(ctx, runtimeFor(ctx).snapshot.version),
  },
};
