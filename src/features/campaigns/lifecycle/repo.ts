import type { Knex } from 'knex';

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'completed' | 'cancelled';
export type RecipientStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';
type Db = Knex | Knex.Transaction;

export interface Campaign {
  id: number;
  name: string;
  status: CampaignStatus;
  subject_ja: string;
  text_ja: string;
  html_ja: string | null;
  subject_en: string | null;
  text_en: string | null;
  html_en: string | null;
  rate_per_minute: number;
  concurrency: number;
  max_attempts: number;
  pause_after_failures: number;
  consecutive_failures: number;
  pause_reason: string | null;
  scheduled_at: Date | null;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface Recipient {
  id: number;
  campaign_id: number;
  email: string;
  email_key: string;
  display_id: string | null;
  name: string | null;
  lang: 'ja' | 'en';
  status: RecipientStatus;
  attempts: number;
  message_id: string | null;
  last_error: string | null;
}

export type CampaignFields = Omit<
  Campaign,
  'id' | 'status' | 'consecutive_failures' | 'pause_reason' | 'created_at' | 'started_at' | 'finished_at' | 'updated_at' | 'scheduled_at'
>;

export async function insertCampaign(db: Db, fields: CampaignFields): Promise<number> {
  const [row] = await db('portal.campaigns').insert(fields).returning('id');
  return Number(row.id);
}

export async function updateCampaignFields(db: Db, id: number, fields: Partial<CampaignFields>): Promise<void> {
  await db('portal.campaigns').where({ id }).update({ ...fields, updated_at: db.fn.now() });
}

export async function findCampaign(db: Db, id: number): Promise<Campaign | undefined> {
  const row = await db('portal.campaigns').where({ id }).first();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** The campaign row locked for the rest of the transaction: a state check and the change it allows see the same state. */
export async function lockCampaign(trx: Knex.Transaction, id: number): Promise<Campaign | undefined> {
  const row = await trx('portal.campaigns').where({ id }).forUpdate().first();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Scheduled campaigns whose time has come move to sending, in one statement; returns their ids. */
export async function startDue(db: Db): Promise<number[]> {
  const rows = await db('portal.campaigns')
    .where({ status: 'scheduled' })
    .where('scheduled_at', '<=', db.fn.now())
    .update({ status: 'sending', started_at: db.fn.now(), updated_at: db.fn.now() })
    .returning('id');
  return rows.map((r: { id: string | number }) => Number(r.id));
}

/** Rows waiting out a retry backoff become due now (the operator resumed after fixing the cause). */
export async function makeQueuedDue(db: Db, campaignId: number): Promise<void> {
  await db('portal.campaign_recipients').where({ campaign_id: campaignId, status: 'queued' }).update({ next_attempt_at: db.fn.now() });
}

export async function listCampaigns(db: Db): Promise<Campaign[]> {
  const rows = await db('portal.campaigns').orderBy('id', 'desc').limit(200);
  return rows.map((r: Campaign) => ({ ...r, id: Number(r.id) }));
}

/**
 * Every imported, non-suppressed address becomes a recipient. Those already
 * in the campaign are left as they are, so running it again only adds new
 * addresses.
 */
export async function addRecipients(db: Db, campaignId: number): Promise<number> {
  const r = await db.raw<{ rowCount: number }>(
    `INSERT INTO portal.campaign_recipients (campaign_id, address_id, email, email_key, display_id, name, lang)
     SELECT ?, a.id, a.email, a.email_key, a.display_id, a.name, a.lang FROM portal.addresses a
     WHERE NOT EXISTS (SELECT 1 FROM portal.suppressions s WHERE s.email_key = a.email_key)
     ORDER BY a.id
     ON CONFLICT (campaign_id, email_key) DO NOTHING`,
    [campaignId],
  );
  return r.rowCount;
}

/** Moves a campaign between states only from the allowed ones; returns whether it moved. */
export async function transition(
  db: Db,
  id: number,
  from: CampaignStatus[],
  to: CampaignStatus,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  const n = await db('portal.campaigns')
    .where({ id })
    .whereIn('status', from)
    .update({ status: to, updated_at: db.fn.now(), ...extra });
  return n > 0;
}

export interface StatusCounts {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  total: number;
  clicked: number;
  unsubscribed: number;
  reregistered: number;
  soft_bounced: number;
  hard_bounced: number;
}

/** Counts per state plus the funnel: re-registered = the address now exists in TOYBOX's users. */
export async function countRecipients(db: Db, campaignId: number): Promise<StatusCounts> {
  const res = await db.raw<{ rows: Array<Record<string, string>> }>(
    `SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
            count(*) FILTER (WHERE status = 'sending') AS sending,
            count(*) FILTER (WHERE status = 'sent') AS sent,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            count(*) FILTER (WHERE status = 'skipped') AS skipped,
            count(*) AS total,
            count(*) FILTER (WHERE clicked_at IS NOT NULL) AS clicked,
            count(*) FILTER (WHERE unsubscribed_at IS NOT NULL) AS unsubscribed,
            count(*) FILTER (WHERE soft_bounces > 0) AS soft_bounced,
            count(*) FILTER (WHERE hard_bounced_at IS NOT NULL) AS hard_bounced,
            (SELECT count(DISTINCT r2.email_key) FROM portal.campaign_recipients r2
               JOIN public.users u ON lower(u.email) = r2.email_key WHERE r2.campaign_id = ?) AS reregistered
       FROM portal.campaign_recipients WHERE campaign_id = ?`,
    [campaignId, campaignId],
  );
  const row = res.rows[0]!;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as unknown as StatusCounts;
}

/** Sends per minute over the last minute, for the live rate and ETA. */
export async function recentRate(db: Db, campaignId: number): Promise<number> {
  const r = await db('portal.campaign_recipients')
    .where({ campaign_id: campaignId, status: 'sent' })
    .where('sent_at', '>', db.raw("now() - interval '60 seconds'"))
    .count<{ n: string }[]>({ n: '*' });
  return Number(r[0]!.n);
}

export async function findRecipient(db: Db, id: number): Promise<(Recipient & { clicked_at: Date | null }) | undefined> {
  return db('portal.campaign_recipients').where({ id }).first();
}

export async function recordClick(db: Db, id: number): Promise<void> {
  await db('portal.campaign_recipients').where({ id }).whereNull('clicked_at').update({ clicked_at: db.fn.now() });
}

export async function recordUnsubscribe(db: Db, id: number): Promise<void> {
  await db('portal.campaign_recipients').where({ id }).whereNull('unsubscribed_at').update({ unsubscribed_at: db.fn.now() });
}

/** Failed recipients go back to the queue for a fresh pass; sent ones are never touched. */
export async function requeueFailed(db: Db, campaignId: number): Promise<number> {
  return db('portal.campaign_recipients')
    .where({ campaign_id: campaignId, status: 'failed' })
    .update({ status: 'queued', attempts: 0, next_attempt_at: db.fn.now(), lease_until: null, worker: null });
}

/**
 * Per-recipient rows for the CSV download in id order, read a page at a time
 * (keyset on id): each page is one short statement, so a slow download never
 * holds a statement open past DB_STATEMENT_TIMEOUT_MS.
 */
export async function* recipientsForExport(db: Db, campaignId: number, pageSize = 2000): AsyncGenerator<Record<string, unknown>> {
  let after = 0;
  for (;;) {
    const page: Array<Record<string, unknown>> = await recipientsPage(db, campaignId, after, pageSize);
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = Number(page[page.length - 1]!.id);
  }
}

function recipientsPage(db: Db, campaignId: number, after: number, limit: number) {
  return db('portal.campaign_recipients as r')
    .joinRaw('LEFT JOIN public.users u ON lower(u.email) = r.email_key')
    .where('r.campaign_id', campaignId)
    .where('r.id', '>', after)
    .orderBy('r.id')
    .limit(limit)
    .select(
      'r.id',
      'r.email',
      'r.display_id',
      'r.lang',
      'r.status',
      'r.attempts',
      'r.last_error',
      'r.skip_reason',
      'r.sent_at',
      'r.clicked_at',
      'r.unsubscribed_at',
      'r.soft_bounces',
      'r.hard_bounced_at',
      db.raw('u.id IS NOT NULL AS reregistered'),
    );
}

/** Addresses a draft would take as recipients when it starts: every known address not suppressed (what addRecipients inserts). */
export async function countEligibleAddresses(db: Db): Promise<number> {
  const r = await db.raw<{ rows: Array<{ n: string }> }>(
    `SELECT count(*) AS n FROM portal.addresses a
     WHERE NOT EXISTS (SELECT 1 FROM portal.suppressions s WHERE s.email_key = a.email_key)`,
  );
  return Number(r.rows[0]?.n ?? 0);
}
