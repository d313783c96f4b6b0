import os from 'node:os';
import crypto from 'node:crypto';
import type { AppContext } from '../../../app-context';
import type { Mailer } from '../../../mail/mailer';
import { logger } from '../../../logger';
import { findCampaign, countRecipients, type StatusCounts, type Recipient } from '../lifecycle/repo';
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
} from './send-queue-repo';
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

/**
 * Records 250s as group commits: a lane hands its row over and moves on; the
 * marker flushes everything that arrived while the previous flush was in
 * flight in one UPDATE. No timer adds delay, so a row's 'sent' is committed
 * at most about two commit times after the server's 250 (the crash window),
 * and under load one commit covers many messages instead of one each.
 */
class SentMarker {
  private pending: Array<{ id: number; at: Date }> = [];
  private flushing: Promise<void> | null = null;
  constructor(
    private readonly ctx: AppContext,
    private readonly worker: string,
  ) {}
  add(id: number): void {
    this.pending.push({ id, at: new Date() });
    this.kick();
  }
  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      this.kick();
    });
  }
  private async flush(): Promise<void> {
    const rows = this.pending.splice(0);
    // Never dropped: a row left 'sending' would be sent again once its lease ran out.
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        await markSent(this.ctx.knex, rows, this.worker);
        return;
      } catch (err) {
        logger.error({ err, rows: rows.length }, 'recording sent messages failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length) {
      this.kick();
      await this.flushing;
    }
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Sends one campaign from this process until nothing is left, it is paused or
 * cancelled, or `signal` aborts. Any number of these may run at once, in one
 * process or many: the send-queue rows decide who sends what.
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
  const batch = Math.min(200, Math.max(10, concurrency * 10));
  const domain = mailDomain(ctx.config);
  const buffer: Recipient[] = [];
  let outcome: RunOutcome | null = null;
  let claiming: Promise<void> | null = null;
  let fatal: unknown = null;
  let lastReclaim = 0;
  let idle = true;
  let failuresSeen = campaign.consecutive_failures > 0;
  const marker = new SentMarker(ctx, worker);
  let inFlight = 0;

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
      // Looking for rows of dead senders costs a statement: every few seconds, or whenever the queue looks empty.
      const reclaimed = Date.now() - lastReclaim > 5000 || idle ? await reclaimExpired(ctx.knex, campaignId) : 0;
      if (reclaimed || Date.now() - lastReclaim > 5000) lastReclaim = Date.now();
      if (reclaimed) logger.warn({ campaignId, reclaimed }, 'took over rows of a sender that stopped mid-send; sending them again with their Message-IDs');
      const res = await claimBatch(ctx.knex, campaignId, batch, worker, lease, domain);
      if (res.consecutiveFailures > 0) failuresSeen = true;
      if (res.status !== 'sending') {
        outcome = res.status === 'completed' ? 'completed' : res.status === 'cancelled' ? 'cancelled' : 'paused';
        return;
      }
      idle = res.rows.length === 0;
      if (res.rows.length) {
        buffer.push(...res.rows);
        return;
      }
      if (res.waitMs > 0) {
        await sleep(Math.min(res.waitMs, 1000), opts.signal);
        continue;
      }
      await marker.drain();
      const left = await remaining(ctx.knex, campaignId);
      if (left.queued === 0 && left.sending === 0) {
        await completeIfDone(ctx.knex, campaignId);
        outcome = 'completed';
        return;
      }
      // Waiting for this process's last messages, retries not yet due, or rows another worker holds (or held, until its lease runs out).
      await sleep(inFlight > 0 ? 20 : Math.max(50, Math.min(left.nextDueMs ?? 500, 1000)), opts.signal);
    }
  };

  const startRefill = () =>
    (claiming ??= refill()
      .catch((err) => {
        fatal ??= err;
        outcome ??= 'stopped';
      })
      .finally(() => {
        claiming = null;
      }));

  // Claims the next batch while the lanes still have work, so SMTP never idles waiting for PostgreSQL.
  const take = async (): Promise<Recipient | null> => {
    while (!outcome) {
      if (opts.signal?.aborted) outcome = 'stopped';
      const next = outcome ? undefined : buffer.shift();
      if (next) {
        if (buffer.length < Math.max(concurrency, batch / 2)) void startRefill();
        return next;
      }
      await startRefill();
    }
    return null;
  };

  const sendOne = async (r: Recipient): Promise<void> => {
    inFlight++;
    try {
      await sendAndRecord(r);
    } finally {
      inFlight--;
    }
  };

  const sendAndRecord = async (r: Recipient): Promise<void> => {
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
    // Handed to the marker the instant the server answered 250: from here to its commit is the crash window.
    marker.add(r.id);
    if (failuresSeen) {
      failuresSeen = false;
      await resetFailures(ctx.knex, campaignId);
    }
  };

  const lane = async () => {
    try {
      for (let r = await take(); r; r = await take()) await sendOne(r);
    } catch (err) {
      // The database went away mid-run: stop every lane; rows left 'sending' are taken over after their lease.
      fatal ??= err;
      outcome ??= 'stopped';
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    await marker.drain();
    clearInterval(leaseTimer);
    if (progressTimer) clearInterval(progressTimer);
    await releaseRows(ctx.knex, buffer.splice(0).map((r) => r.id), worker).catch((err) => logger.error({ err }, 'release failed'));
  }
  if (fatal) throw fatal;
  if (opts.onProgress) opts.onProgress(await countRecipients(ctx.knex, campaignId));
  return outcome ?? 'stopped';
}
