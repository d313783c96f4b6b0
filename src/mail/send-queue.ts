import type { Knex } from 'knex';
import type { AppContext } from '../app-context';
import type { Lang } from '../i18n';
import { workOwner } from '../jobs/ownership';
import { logger } from '../logger';
import { addressKey } from './address';
import type { EmailName } from './definitions';
import * as repo from './send-queue-repo';
import { sendEmail, type EmailToSend } from './send';
import { takeSendTokens } from './send-rate';
import { isSuppressed } from './suppressions';

/**
 * Transactional e-mail sent exactly once, the way campaigns send
 * (docs/design/exactly-once.md), for features that send one message per row
 * of their own (a claims link, an account invitation):
 *
 * 1. The feature queues the message in the same transaction as its own row
 *    (`queueMessage`, one per `ref`) and, after the commit, enqueues a job.
 * 2. The job (`deliverMessage`) claims the row: 'queued' -> 'sending' with this
 *    process as owner and a fixed Message-ID, committed before SMTP. A
 *    suppressed address (bounce, complaint, unsubscribe, admin block) is
 *    marked 'suppressed' instead and never sent to. The send takes a token
 *    from the outbound bucket (MAIL_RATE_PER_MINUTE, shared by every instance).
 * 3. The moment the server says 250 the row is 'sent'. A temporary failure puts
 *    it back to 'queued' and the job fails, so the queue retries it (the
 *    registry's policy); a permanent one (5xx, recipient refused) is 'failed'.
 *
 * A process killed between the claim and the mark leaves 'sending' with its
 * owner; the sweep (`sweepMessages`) sees the owner's lock gone and puts the row
 * back in the queue, flagged, to be sent again with the same Message-ID. The
 * window where that makes a second copy (the server had accepted the message,
 * the mark had not committed) is the one the design document describes.
 */

export type { QueuedMessage, QueuedStatus } from './send-queue-repo';

/** What the feature puts in the message when it is sent (links are minted here, never stored in the queue). */
export type BuildMessage = (row: repo.QueuedMessage) => Promise<Pick<EmailToSend, 'locals' | 'subjectDetail' | 'subjectVars' | 'headers'> | null>;

export interface DeliveryOutcome {
  id: number;
  /** Where the row ended: 'sent', 'suppressed', 'failed', or what another sender left it in ('queued' when it will be retried). */
  status: repo.QueuedStatus;
  /** Whether this call sent it. */
  sent: boolean;
  /** The sender's ref, when this call claimed the row. */
  ref?: string;
}

/** The message's outbound bucket; one for all transactional mail. */
export const OUTBOUND_BUCKET = 'outbound';

/** The domain of MAIL_FROM, for Message-IDs. */
export function mailDomain(mailFrom: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(mailFrom);
  return (m?.[1] ?? 'toybox.local').toLowerCase();
}

/** Queues one message (in the caller's transaction); the same `ref` again returns the first message's id. */
export function queueMessage(db: Knex | Knex.Transaction, email: EmailName, ref: string, to: string, lang: Lang): Promise<number> {
  return repo.insertMessage(db, { email, ref, to_email: to, email_key: addressKey(to) ?? to.trim().toLowerCase(), lang });
}

/** The messages behind these refs (their state for a staff page), keyed by ref. */
export async function messageStates(db: Knex | Knex.Transaction, refs: string[]): Promise<Map<string, repo.QueuedMessage>> {
  return new Map((await repo.messagesByRef(db, refs)).map((r) => [r.ref, r]));
}

class RateWait extends Error {
  constructor(public readonly ms: number) {
    super('outbound rate');
  }
}

const MAX_RATE_WAIT_MS = 60_000;

/** Claims the row (or finds it is not to be sent), checking the suppression list and taking a rate token in the same transaction. */
async function claim(ctx: AppContext, id: number, owner: string): Promise<{ row: repo.QueuedMessage } | { outcome: DeliveryOutcome }> {
  const started = Date.now();
  for (;;) {
    try {
      return await ctx.knex.transaction(async (trx) => {
        const row = await repo.claimMessage(trx, id, owner, mailDomain(ctx.config.MAIL_FROM));
        if (!row) {
          const now = await repo.messageById(trx, id);
          return { outcome: { id, status: now?.status ?? 'failed', sent: false } };
        }
        if (await isSuppressed(trx, row.email_key)) {
          await repo.finishMessage(trx, id, owner, 'suppressed', 'address is on the suppression list');
          return { outcome: { id, status: 'suppressed', sent: false, ref: row.ref } };
        }
        const grant = await takeSendTokens(trx, OUTBOUND_BUCKET, ctx.config.MAIL_RATE_PER_MINUTE, 1);
        if (!grant.granted) throw new RateWait(grant.waitMs); // rolls the claim back
        return { row };
      });
    } catch (err) {
      if (!(err instanceof RateWait) || Date.now() - started > MAX_RATE_WAIT_MS) throw err;
      await new Promise((r) => setTimeout(r, Math.min(err.ms, 5_000)));
    }
  }
}

const permanent = (err: unknown) => {
  const code = (err as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500;
};

/**
 * Sends one queued message exactly once (see above). Safe to run twice and
 * from several processes: only the claim's winner sends. `maxAttempts` is the
 * queue's retry limit + 1: the last failed attempt marks the row 'failed'.
 * A failure that may pass is thrown after the row is back in the queue, so the
 * job queue retries it.
 */
export async function deliverMessage(ctx: AppContext, id: number, build: BuildMessage, opts: { maxAttempts: number }): Promise<DeliveryOutcome> {
  const owner = (await workOwner(ctx)).id;
  const claimed = await claim(ctx, id, owner);
  if ('outcome' in claimed) return claimed.outcome;
  const { row } = claimed;
  let content;
  try {
    content = await build(row);
  } catch (err) {
    await repo.finishMessage(ctx.knex, id, owner, row.attempts >= opts.maxAttempts ? 'failed' : 'queued', `could not build: ${(err as Error).message}`);
    throw err;
  }
  if (!content) {
    await repo.finishMessage(ctx.knex, id, owner, 'failed', 'nothing to send any more (link used, expired or withdrawn)');
    return { id, status: 'failed', sent: false, ref: row.ref };
  }
  try {
    const result = await sendEmail(ctx, row.email as EmailName, { ...content, to: row.to_email, lang: row.lang as Lang, messageId: row.message_id! });
    if (result.rejected.length && !result.accepted.length) {
      await repo.finishMessage(ctx.knex, id, owner, 'failed', `recipient refused: ${result.rejected.join(', ')}`);
      return { id, status: 'failed', sent: false, ref: row.ref };
    }
  } catch (err) {
    const final = permanent(err) || row.attempts >= opts.maxAttempts;
    await repo.finishMessage(ctx.knex, id, owner, final ? 'failed' : 'queued', (err as Error).message);
    if (final) return { id, status: 'failed', sent: false, ref: row.ref };
    throw err;
  }
  await repo.finishMessage(ctx.knex, id, owner, 'sent');
  return { id, status: 'sent', sent: true, ref: row.ref };
}

/** How long a queued row may sit untried before the sweep queues a job for it again (longer than any retry delay). */
export const IDLE_SECONDS = 600;

/**
 * For a feature's timer: rows whose sending process is gone go back to the
 * queue (flagged), and queued rows no job has touched for IDLE_SECONDS are
 * returned with them, for the caller to enqueue a job each.
 */
export async function sweepMessages(ctx: AppContext, refPrefix: string): Promise<number[]> {
  const owner = await workOwner(ctx);
  const retaken: number[] = [];
  for (const r of await repo.sendingMessages(ctx.knex, refPrefix)) {
    if (!(await owner.isGone(r.owner))) continue;
    if (await repo.takeOver(ctx.knex, r.id, r.owner)) {
      logger.warn({ message: r.id }, 'e-mail left mid-send by a process that is gone: queued again with the same Message-ID');
      retaken.push(r.id);
    }
  }
  return [...new Set([...retaken, ...(await repo.idleQueued(ctx.knex, refPrefix, IDLE_SECONDS))])];
}
