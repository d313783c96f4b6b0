import os from 'node:os';
import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import type { Mailer } from '../../mail/mailer';
import { logger } from '../../logger';
import { findCampaign, countRecipients, type StatusCounts, type Recipient } from './repo';
import {
  claimBatch,
  markSent,
  markRetry,
  markFailed,
  releaseRows,
  renewLeases,
  reclaimExpired,
  remaining,
  completeIfDone,
  noteFailure,
  resetFailures,
} from './outbox-repo';
import { buildMessage, prepareCampaign, mailDomain } from './message';

export type RunOutcome = 'completed' | 'paused' | 'cancelled' | 'stopped' | 'not_sending';

export interface SenderOptions {
  mailer?: Mailer;
  /** Lease on a claimed row: longer than any single SMTP transaction (connect 15 s + socket 30 s). */
  leaseSeconds?: number;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (counts: StatusCounts) => void;
  progressEveryMs?: number;
  workerId?: string;
}

export const DEFAULT_LEASE_SECONDS = 90;

/** Temporary (4xx, timeouts, connection trouble) or permanent (5xx) failure, with the server's words. */
export function classifySmtpError(err: unknown): { permanent: boolean; reason: string } {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const reason = (e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 500);
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return { permanent: true, reason };
  return { permanent: false, reason: e.code && !e.responseCode ? `${e.code}: ${reason}` : reason };
}

/** Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at 30 min. */
export function backoffSeconds(attempt: number): number {
  const base = Math.min(30 * 2 ** Math.max(0, attempt - 1), 1800);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/**
 * Sends one campaign from this process until nothing is left, it is paused or
 * cancelled, or `signal` aborts. Any number of these may run at once, in one
 * process or many: the outbox rows decide who sends what.
 */
export async function runCampaign(ctx: AppContext, campaignId: number, opts: SenderOptions = {}): Promise<RunOutcome> {
  const campaign = await findCampaign(ctx.knex, campaignId);
  if (!campaign) throw new Error(`campaign ${campaignId} not found`);
  if (campaign.status !== 'sending') return 'not_sending';
  const prepared = prepareCampaign(campaign);
  const mailer = opts.mailer ?? ctx.mailer;
  const worker = opts.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  const lease = opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const concurrency = opts.concurrency ?? campaign.concurrency;
  const batch = Math.min(100, Math.max(10, concurrency * 5));
  const domain = mailDomain(ctx.config);
  const buffer: Recipient[] = [];
  let outcome: RunOutcome | null = null;
  let claiming: Promise<void> | null = null;
  let failuresSeen = campaign.consecutive_failures > 0;

  const leaseTimer = setInterval(() => {
    renewLeases(ctx.knex, campaignId, worker, lease).catch((err) => logger.warn({ err }, 'lease renewal failed'));
  }, Math.max(1000, (lease * 1000) / 3));
  const progressTimer = opts.onProgress
    ? setInterval(() => {
        countRecipients(ctx.knex, campaignId).then(opts.onProgress!, () => undefined);
      }, opts.progressEveryMs ?? 500)
    : null;

  const refill = async (): Promise<void> => {
    while (!outcome) {
      if (opts.signal?.aborted) {
        outcome = 'stopped';
        return;
      }
      await reclaimExpired(ctx.knex, campaignId);
      const res = await claimBatch(ctx.knex, campaignId, batch, worker, lease, domain);
      if (res.consecutiveFailures > 0) failuresSeen = true;
      if (res.status !== 'sending') {
        outcome = res.status === 'completed' ? 'completed' : res.status === 'cancelled' ? 'cancelled' : 'paused';
        return;
      }
      if (res.rows.length) {
        buffer.push(...res.rows);
        return;
      }
      if (res.waitMs > 0) {
        await sleep(Math.min(res.waitMs, 1000), opts.signal);
        continue;
      }
      const left = await remaining(ctx.knex, campaignId);
      if (left.queued === 0 && left.sending === 0) {
        await completeIfDone(ctx.knex, campaignId);
        outcome = 'completed';
        return;
      }
      // Waiting for retries that are not yet due, or for rows another worker holds (or held, until its lease runs out).
      await sleep(Math.max(50, Math.min(left.nextDueMs ?? 500, 1000)), opts.signal);
    }
  };

  const take = async (): Promise<Recipient | null> => {
    while (!outcome) {
      const next = buffer.shift();
      if (next) return next;
      claiming ??= refill().finally(() => {
        claiming = null;
      });
      await claiming;
    }
    return null;
  };

  const sendOne = async (r: Recipient): Promise<void> => {
    try {
      await mailer.send(buildMessage(ctx.config, prepared, r));
    } catch (err) {
      const { permanent, reason } = classifySmtpError(err);
      if (permanent || r.attempts >= campaign.max_attempts) await markFailed(ctx.knex, r.id, worker, reason);
      else await markRetry(ctx.knex, r.id, worker, reason, backoffSeconds(r.attempts));
      failuresSeen = true;
      const { paused } = await noteFailure(ctx.knex, campaignId, reason);
      if (paused) logger.warn({ campaignId, reason }, 'campaign paused after consecutive failures');
      return;
    }
    // Recorded the instant the server answered 250: this await is the whole crash window.
    await markSent(ctx.knex, r.id, worker);
    if (failuresSeen) {
      failuresSeen = false;
      await resetFailures(ctx.knex, campaignId);
    }
  };

  const lane = async () => {
    for (let r = await take(); r; r = await take()) await sendOne(r);
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    clearInterval(leaseTimer);
    if (progressTimer) clearInterval(progressTimer);
    await releaseRows(ctx.knex, buffer.splice(0).map((r) => r.id), worker).catch((err) => logger.error({ err }, 'release failed'));
  }
  if (opts.onProgress) opts.onProgress(await countRecipients(ctx.knex, campaignId));
  return outcome ?? 'stopped';
}
