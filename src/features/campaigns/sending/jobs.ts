import type { AppContext } from '../../../app-context';
import { enqueueJob, type BackgroundWork } from '../../../jobs/runner';
import { logger } from '../../../logger';
import type { Lang } from '../../../i18n';
import { runCampaign } from './sender';
import { startDueCampaigns } from '../lifecycle/service';
import { sweepUploads } from '../addresses/upload-store';
import { sendTestMessage } from './preview';

/** Asks the worker instance(s) to send a campaign; safe to call any number of times. */
export async function kickCampaign(ctx: AppContext, campaignId: number): Promise<void> {
  await enqueueJob(ctx, 'campaignSend', { campaignId }, { singletonKey: `campaign-${campaignId}` });
}

/** Queues a test message to `to` (the admin who asked); a worker sends it, retrying a failed send. */
export async function queueTestMessage(ctx: AppContext, campaignId: number, lang: Lang, to: string, actor: string): Promise<void> {
  await enqueueJob(ctx, 'campaignTestSend', { campaignId, lang, to, actor });
}

/** Sending loops this process runs, per context: one per campaign at most. */
interface Loops {
  running: Map<number, Promise<unknown>>;
  abort: AbortController;
}
const loopsByCtx = new WeakMap<AppContext, Loops>();

/** Starts (or joins) the sending loop for a campaign in this process; it runs until the campaign is done or paused. */
function launch(ctx: AppContext, campaignId: number): void {
  const loops = loopsByCtx.get(ctx);
  // Not started, or stopping: a job picked up now is left to the resume timer of the next start.
  if (!loops || loops.abort.signal.aborted) return;
  const { running, abort } = loops;
  if (running.has(campaignId)) return;
  const loop = runCampaign(ctx, campaignId, { signal: abort.signal })
    .then((outcome) => logger.info({ campaignId, outcome }, 'campaign sender stopped'))
    .catch((err) => logger.error({ err, campaignId }, 'campaign sender failed'))
    .finally(() => running.delete(campaignId));
  running.set(campaignId, loop);
}

/**
 * Handlers for the campaign entries of src/jobs/registry.ts. A `campaigns.send` job starts (or joins) the
 * sending loop for that campaign in this process and completes at once. The resume timer re-kicks campaigns
 * left in 'sending' (after a restart), and every instance that picks the job up adds its own loop: the
 * send-queue rows keep them from sending anything twice.
 */
export const campaignBackground: BackgroundWork = {
  queues: {
    campaignSend: async (ctx, { campaignId }) => launch(ctx, Number(campaignId)),
    campaignTestSend: (ctx, { campaignId, lang, to, actor }) => sendTestMessage(ctx, campaignId, lang, to, actor),
  },
  timers: {
    async campaignResumeSending(ctx) {
      await startDueCampaigns(ctx.knex);
      const rows = await ctx.knex('portal.campaigns').where({ status: 'sending' }).select('id');
      for (const r of rows) launch(ctx, Number(r.id));
    },
    campaignSweepUploads: async (ctx) => void (await sweepUploads(ctx)),
  },
  async prepare(ctx) {
    loopsByCtx.set(ctx, { running: new Map(), abort: new AbortController() });
  },
  /** Ends this process's sending loops (each stops between messages) and waits for them. */
  async stop(ctx) {
    const l = loopsByCtx.get(ctx);
    if (!l) return;
    l.abort.abort();
    await Promise.all(l.running.values());
  },
};
