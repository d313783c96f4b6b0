import type { Knex } from 'knex';
import { recordAudit } from '../../../audit/service';

export type SuppressionReason = 'unsubscribed' | 'hard_bounce' | 'complaint' | 'manual';

/**
 * Adds an address to the suppression list (first reason wins: an address is
 * never un-suppressed by a later event) and marks still-queued recipients of
 * every campaign as skipped, so the change is immediate.
 */
export async function suppressAddress(
  db: Knex | Knex.Transaction,
  emailKey: string,
  reason: SuppressionReason,
  detail: string | null = null,
  campaignId: number | null = null,
): Promise<boolean> {
  const inserted = await db.raw<{ rowCount: number }>(
    `INSERT INTO portal.suppressions (email_key, reason, detail, campaign_id) VALUES (?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING`,
    [emailKey, reason, detail, campaignId],
  );
  await db('portal.campaign_recipients')
    .where({ email_key: emailKey, status: 'queued' })
    .update({ status: 'skipped', skip_reason: 'suppressed' });
  return inserted.rowCount > 0;
}

export async function listSuppressions(db: Knex, limit = 200) {
  return db('portal.suppressions').orderBy('created_at', 'desc').limit(limit);
}

export async function countSuppressions(db: Knex): Promise<Record<SuppressionReason, number>> {
  const rows = await db('portal.suppressions').select('reason').count<{ reason: SuppressionReason; n: string }[]>({ n: '*' }).groupBy('reason');
  const out = { unsubscribed: 0, hard_bounce: 0, complaint: 0, manual: 0 };
  for (const r of rows) out[r.reason] = Number(r.n);
  return out;
}

/**
 * Admin's block list entry (the caller normalises the address first, so `Ｘ＠Example.com` blocks x@example.com):
 * the suppression and its audit entry in one transaction.
 */
export async function blockAddress(db: Knex, emailKey: string, detail: string | null, actor: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const added = await suppressAddress(trx, emailKey, 'manual', detail);
    await recordAudit(trx, actor, 'campaigns.block', null, { added });
    return added;
  });
}
