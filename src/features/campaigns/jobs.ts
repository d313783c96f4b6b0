import type { AppContext } from '../../app-context';
import { enqueue, work } from '../../jobs/queue';
import { logger } from '../../logger';
import { runCampaign } from './sender';
import { startDueCampaigns } from './service';

/** Job names are a contract with jobs already waiting in the database: never rename in place. */
export const CAMPAIGN_JOBS = { send: 'campaigns.send' } as const;

const SWEEP_MS = 30_000;

/** Asks the server process(es) to send a campaign; safe to call any number of times. */
export async function kickCampaign(ctx: AppContext, campaignId: number): Promise<void> {
  await enqueue(ctx, CAMPAIGN_JOBS.send, { campaignId }, { singletonKey: `campaign-${campaignId}` });
}

/**
 * The server's sender: a `campaigns.send` job starts (or joins) the sending
 * loop for that campaign in this process and completes at once; the loop
 * runs until the campaign is done or paused. A sweep re-kicks campaigns left
 * in 'sending' (after a restart), and every instance that picks the job up
 * adds its own loop: the outbox rows keep them from sending anything twice.
 */
export async function startCampaignWorker(ctx: AppContext): Promise<() => Promise<void>> {
  const running = new Map<number, Promise<unknown>>();
  const abort = new AbortController();
  const launch = (campaignId: number) => {
    if (running.has(campaignId) || abort.signal.aborted) return;
    const loop = runCampaign(ctx, campaignId, { signal: abort.signal })
      .then((outcome) => logger.info({ campaignId, outcome }, 'campaign sender stopped'))
      .catch((err) => logger.error({ err, campaignId }, 'campaign sender failed'))
      .finally(() => running.delete(campaignId));
    running.set(campaignId, loop);
  };
  await work<{ campaignId: number }>(ctx, CAMPAIGN_JOBS.send, async ({ campaignId }) => launch(Number(campaignId)), { batchSize: 5, pollingIntervalSeconds: 2 });
  const sweep = async () => {
    await startDueCampaigns(ctx.knex);
    const rows = await ctx.knex('portal.campaigns').where({ status: 'sending' }).select('id');
    for (const r of rows) launch(Number(r.id));
  };
  const timer = setInterval(() => {
    sweep().catch((err) => logger.warn({ err }, 'campaign sweep failed'));
  }, SWEEP_MS);
  await sweep().catch((err) => logger.warn({ err }, 'campaign sweep failed'));
  return async () => {
    clearInterval(timer);
    abort.abort();
    await Promise.all(running.values());
  };
}
