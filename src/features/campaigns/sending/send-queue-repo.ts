import type { Knex } from 'knex';
import type { Recipient, CampaignStatus } from '../lifecycle/repo';
import { grantTokens } from '../../../mail/send-rate';

/*
 * The SQL of the send queue: portal.campaign_recipients, one row per message
 * to send (the transactional-outbox pattern, not the captured-mail folder). Every
 * state change is one short autocommitted statement so that what the
 * database says is never more than one SMTP transaction behind reality.
 */

export interface ClaimResult {
  status: CampaignStatus;
  rows: Recipient[];
  /** When the shared rate-limit bucket is empty: how long until the next token. */
  waitMs: number;
  consecutiveFailures: number;
}

/**
 * Claims up to `max` due recipients for this worker: locks the campaign row
 * (status check + the token bucket shared by every instance), then takes
 * queued rows with FOR UPDATE SKIP LOCKED and commits them as 'sending' with
 * a lease, so no other worker can take them. Rows whose address was
 * suppressed or is back in TOYBOX's users are skipped here, at send time.
 */
export async function claimBatch(knex: Knex, campaignId: number, max: number, worker: string, leaseSeconds: number, messageIdDomain: string): Promise<ClaimResult> {
  return knex.transaction(async (trx) => {
    const c = await trx('portal.campaigns')
      .where({ id: campaignId })
      .forUpdate()
      .first<{ status: CampaignStatus; rate_per_minute: number; bucket_tokens: number; elapsed: number; consecutive_failures: number }>(
        'status',
        'rate_per_minute',
        'bucket_tokens',
        'consecutive_failures',
        trx.raw('extract(epoch FROM clock_timestamp() - bucket_at)::float8 AS elapsed'),
      );
    if (!c) return { status: 'cancelled', rows: [], waitMs: 0, consecutiveFailures: 0 };
    if (c.status !== 'sending') return { status: c.status, rows: [], waitMs: 0, consecutiveFailures: c.consecutive_failures };
    // The bucket arithmetic is the shared outbound one (src/mail/send-rate.ts); a campaign keeps its own bucket in its row.
    const bucket = grantTokens(c.bucket_tokens, c.elapsed, c.rate_per_minute, max);
    const grant = bucket.granted;
    if (grant <= 0) {
      await trx('portal.campaigns').where({ id: campaignId }).update({ bucket_tokens: bucket.tokens, bucket_at: trx.raw('clock_timestamp()') });
      return { status: c.status, rows: [], waitMs: bucket.waitMs, consecutiveFailures: c.consecutive_failures };
    }
    const claimed = await trx.raw<{ rows: Recipient[] }>(
      `UPDATE portal.campaign_recipients r
          SET status = 'sending', attempts = r.attempts + 1, worker = ?,
              lease_until = clock_timestamp() + make_interval(secs => ?),
              message_id = coalesce(r.message_id, '<campaign-' || r.campaign_id || '.' || r.id || '@' || ? || '>')
        WHERE r.id IN (SELECT id FROM portal.campaign_recipients
                        WHERE campaign_id = ? AND status = 'queued' AND next_attempt_at <= clock_timestamp()
                        ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING r.id, r.campaign_id, r.email, r.email_key, r.display_id, r.name, r.lang, r.status, r.attempts, r.message_id, r.last_error`,
      [worker, leaseSeconds, messageIdDomain, campaignId, grant],
    );
    let rows = claimed.rows.map((r) => ({ ...r, id: Number(r.id), campaign_id: Number(r.campaign_id) }));
    if (rows.length) {
      const skipped = await trx.raw<{ rows: Array<{ id: string }> }>(
        `UPDATE portal.campaign_recipients r
            SET status = 'skipped', lease_until = NULL,
                skip_reason = CASE WHEN EXISTS (SELECT 1 FROM portal.suppressions s WHERE s.email_key = r.email_key) THEN 'suppressed' ELSE 'registered' END
          WHERE r.id = ANY(?::bigint[])
            AND (EXISTS (SELECT 1 FROM portal.suppressions s WHERE s.email_key = r.email_key)
                 OR EXISTS (SELECT 1 FROM public.users u WHERE lower(u.email) = r.email_key))
          RETURNING r.id`,
        [rows.map((r) => r.id)],
      );
      const gone = new Set(skipped.rows.map((r) => Number(r.id)));
      rows = rows.filter((r) => !gone.has(r.id));
    }
    if (c.rate_per_minute > 0) {
      await trx('portal.campaigns')
        .where({ id: campaignId })
        // Only messages really claimed spend a token (skipped rows give theirs back).
        .update({ bucket_tokens: bucket.tokens + grant - rows.length, bucket_at: trx.raw('clock_timestamp()') });
    }
    return { status: c.status, rows, waitMs: 0, consecutiveFailures: c.consecutive_failures };
  });
}

/**
 * The server said 250 for these rows (at these times): one statement, one
 * commit for the whole group. last_error is kept: on a row that was taken
 * over after a crash it says so, which is how an operator finds the few
 * recipients who may hold two copies (see docs/design/exactly-once.md).
 */
export async function markSent(knex: Knex, rows: Array<{ id: number; at: Date }>, worker: string): Promise<void> {
  await knex.raw(
    `UPDATE portal.campaign_recipients r SET status = 'sent', sent_at = v.at, lease_until = NULL
       FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, at)
      WHERE r.id = v.id AND r.status = 'sending' AND r.worker = ?`,
    [rows.map((r) => r.id), rows.map((r) => r.at.toISOString()), worker],
  );
}

export async function markRetry(knex: Knex, id: number, worker: string, error: string, delaySeconds: number): Promise<void> {
  await knex.raw(
    `UPDATE portal.campaign_recipients
        SET status = 'queued', lease_until = NULL, worker = NULL, last_error = ?, next_attempt_at = clock_timestamp() + make_interval(secs => ?)
      WHERE id = ? AND status = 'sending' AND worker = ?`,
    [error, delaySeconds, id, worker],
  );
}

export async function markFailed(knex: Knex, id: number, worker: string, error: string): Promise<void> {
  await knex.raw(
    `UPDATE portal.campaign_recipients SET status = 'failed', lease_until = NULL, last_error = ?
      WHERE id = ? AND status = 'sending' AND worker = ?`,
    [error, id, worker],
  );
}

/** Claimed rows this worker will not send (paused, stopping): back to the queue untouched by SMTP. */
export async function releaseRows(knex: Knex, ids: number[], worker: string): Promise<void> {
  if (!ids.length) return;
  await knex.raw(
    `UPDATE portal.campaign_recipients SET status = 'queued', lease_until = NULL, worker = NULL, attempts = greatest(attempts - 1, 0)
      WHERE id = ANY(?::bigint[]) AND status = 'sending' AND worker = ?`,
    [ids, worker],
  );
}

export async function renewLeases(knex: Knex, campaignId: number, worker: string, leaseSeconds: number): Promise<void> {
  await knex.raw(
    `UPDATE portal.campaign_recipients SET lease_until = clock_timestamp() + make_interval(secs => ?)
      WHERE campaign_id = ? AND status = 'sending' AND worker = ?`,
    [leaseSeconds, campaignId, worker],
  );
}

/**
 * Rows left in 'sending' by a worker that died (its lease ran out): the
 * crash window. They go back to the queue and are sent again with the same
 * Message-ID; see docs/design/exactly-once.md for why this is the right call.
 */
export async function reclaimExpired(knex: Knex, campaignId: number): Promise<number> {
  const r = await knex.raw<{ rowCount: number }>(
    `UPDATE portal.campaign_recipients SET status = 'queued', lease_until = NULL, worker = NULL,
            last_error = coalesce(last_error, 'worker lost during send (lease expired)')
      WHERE campaign_id = ? AND status = 'sending' AND lease_until < clock_timestamp()`,
    [campaignId],
  );
  return r.rowCount;
}

export interface Remaining {
  queued: number;
  sending: number;
  nextDueMs: number | null;
}

export async function remaining(knex: Knex, campaignId: number): Promise<Remaining> {
  const r = await knex.raw<{ rows: Array<{ queued: string; sending: string; next_due_ms: number | null }> }>(
    `SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
            count(*) FILTER (WHERE status = 'sending') AS sending,
            extract(epoch FROM min(CASE WHEN status = 'queued' THEN next_attempt_at
                                        WHEN status = 'sending' THEN lease_until END) - clock_timestamp())::float8 * 1000 AS next_due_ms
       FROM portal.campaign_recipients WHERE campaign_id = ? AND status IN ('queued', 'sending')`,
    [campaignId],
  );
  const row = r.rows[0]!;
  return { queued: Number(row.queued), sending: Number(row.sending), nextDueMs: row.next_due_ms === null ? null : Number(row.next_due_ms) };
}

/** Completes the campaign only when nothing is queued or in flight anywhere. */
export async function completeIfDone(knex: Knex, campaignId: number): Promise<boolean> {
  const r = await knex.raw<{ rowCount: number }>(
    `UPDATE portal.campaigns SET status = 'completed', finished_at = now(), updated_at = now()
      WHERE id = ? AND status = 'sending'
        AND NOT EXISTS (SELECT 1 FROM portal.campaign_recipients WHERE campaign_id = ? AND status IN ('queued', 'sending'))`,
    [campaignId, campaignId],
  );
  return r.rowCount > 0;
}

/** Counts a failure; after N in a row (across all instances) the campaign pauses itself with the reason. */
export async function noteFailure(knex: Knex, campaignId: number, reason: string): Promise<{ paused: boolean }> {
  const r = await knex.raw<{ rows: Array<{ status: string }> }>(
    `UPDATE portal.campaigns
        SET consecutive_failures = consecutive_failures + 1,
            status = CASE WHEN status = 'sending' AND consecutive_failures + 1 >= pause_after_failures THEN 'paused' ELSE status END,
            pause_reason = CASE WHEN status = 'sending' AND consecutive_failures + 1 >= pause_after_failures
                                THEN (consecutive_failures + 1) || ' consecutive failures; last: ' || ? ELSE pause_reason END,
            updated_at = now()
      WHERE id = ? RETURNING status`,
    [reason.slice(0, 300), campaignId],
  );
  return { paused: r.rows[0]?.status === 'paused' };
}

export async function resetFailures(knex: Knex, campaignId: number): Promise<void> {
  await knex.raw(`UPDATE portal.campaigns SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures <> 0`, [campaignId]);
}
