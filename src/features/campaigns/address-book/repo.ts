import type { Knex } from 'knex';

export interface AddressMatch {
  email_key: string;
  email: string;
}

/** Addresses whose key contains the text, from everywhere an address appears (imports, messages, suppressions, bounces). */
export async function searchAddressKeys(db: Knex, fragment: string, limit: number): Promise<AddressMatch[]> {
  const like = `%${fragment.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.raw<{ rows: AddressMatch[] }>(
    `SELECT email_key, min(email) AS email FROM (
       SELECT email_key, email FROM portal.addresses WHERE email_key LIKE ?
       UNION ALL SELECT email_key, email FROM portal.campaign_recipients WHERE email_key LIKE ?
       UNION ALL SELECT email_key, email_key FROM portal.suppressions WHERE email_key LIKE ?
       UNION ALL SELECT email_key, email_key FROM portal.bounce_events WHERE email_key LIKE ?
     ) found GROUP BY email_key ORDER BY email_key LIMIT ?`,
    [like, like, like, like, limit],
  );
  return rows.rows;
}

export interface AddressRecord {
  id: number;
  email: string;
  display_id: string | null;
  name: string | null;
  lang: string;
  sources: string[];
  created_at: Date;
  updated_at: Date;
}

export interface MessageRecord {
  campaign_id: number;
  campaign_name: string;
  status: string;
  attempts: number;
  last_error: string | null;
  skip_reason: string | null;
  sent_at: Date | null;
  clicked_at: Date | null;
  unsubscribed_at: Date | null;
  soft_bounces: number;
  hard_bounced_at: Date | null;
}

export interface BounceRecord {
  kind: string;
  status_code: string | null;
  reason: string | null;
  source: string;
  created_at: Date;
}

export interface SuppressionRecord {
  reason: string;
  detail: string | null;
  campaign_id: number | null;
  created_at: Date;
}

export async function findAddress(db: Knex, key: string): Promise<AddressRecord | undefined> {
  return db('portal.addresses').where({ email_key: key }).first();
}

export async function selectMessages(db: Knex, key: string): Promise<MessageRecord[]> {
  return db('portal.campaign_recipients as r')
    .join('portal.campaigns as c', 'c.id', 'r.campaign_id')
    .where('r.email_key', key)
    .orderBy('r.campaign_id', 'desc')
    .select('r.campaign_id', 'c.name as campaign_name', 'r.status', 'r.attempts', 'r.last_error', 'r.skip_reason', 'r.sent_at', 'r.clicked_at', 'r.unsubscribed_at', 'r.soft_bounces', 'r.hard_bounced_at');
}

export async function selectBounces(db: Knex, key: string): Promise<BounceRecord[]> {
  return db('portal.bounce_events').where({ email_key: key }).orderBy('created_at', 'desc').limit(100).select('kind', 'status_code', 'reason', 'source', 'created_at');
}

export async function findSuppression(db: Knex | Knex.Transaction, key: string): Promise<SuppressionRecord | undefined> {
  return db('portal.suppressions').where({ email_key: key }).first('reason', 'detail', 'campaign_id', 'created_at');
}

export async function lockSuppression(trx: Knex.Transaction, key: string): Promise<SuppressionRecord | undefined> {
  return trx('portal.suppressions').where({ email_key: key }).forUpdate().first('reason', 'detail', 'campaign_id', 'created_at');
}

export async function deleteSuppression(trx: Knex.Transaction, key: string): Promise<number> {
  return trx('portal.suppressions').where({ email_key: key }).delete();
}
