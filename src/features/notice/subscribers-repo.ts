import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface SubscriberRow {
  id: number;
  email: string;
  email_key: string;
  lang: 'ja' | 'en';
  confirm_nonce: string | null;
  confirm_expires_at: Date | null;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
}

const T = 'portal.notice_subscribers';
const D = 'portal.notice_deliveries';

export async function findSubscriber(db: Db, id: number): Promise<SubscriberRow | undefined> {
  const row = await db(T).where({ id }).first();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** A new request for an address: a fresh nonce and expiry; an existing row keeps its confirmation state. */
export async function upsertRequest(db: Db, r: { email: string; email_key: string; lang: 'ja' | 'en'; nonce: string; expiresAt: Date }): Promise<SubscriberRow> {
  const res = await db.raw<{ rows: SubscriberRow[] }>(
    `INSERT INTO ${T} (email, email_key, lang, confirm_nonce, confirm_expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (email_key) DO UPDATE SET email = excluded.email, lang = excluded.lang, confirm_nonce = excluded.confirm_nonce,
       confirm_expires_at = excluded.confirm_expires_at, updated_at = now()
     RETURNING *`,
    [r.email, r.email_key, r.lang, r.nonce, r.expiresAt],
  );
  const row = res.rows[0]!;
  return { ...row, id: Number(row.id) };
}

/** Confirms once: the nonce is spent, so a second press of the same link changes nothing. */
export async function markConfirmed(db: Db, id: number, nonce: string): Promise<boolean> {
  const n = await db(T)
    .where({ id, confirm_nonce: nonce })
    .where('confirm_expires_at', '>', db.fn.now())
    .update({ confirmed_at: db.fn.now(), unsubscribed_at: null, confirm_nonce: null, confirm_expires_at: null, updated_at: db.fn.now() });
  return n > 0;
}

export async function markUnsubscribed(db: Db, id: number): Promise<boolean> {
  const n = await db(T).where({ id }).whereNull('unsubscribed_at').update({ unsubscribed_at: db.fn.now(), updated_at: db.fn.now() });
  // still queued updates for them are not sent
  await db(D).where({ subscriber_id: id, status: 'queued' }).update({ status: 'skipped', last_error: 'unsubscribed' });
  return n > 0;
}

/**
 * One delivery row per confirmed subscriber and public timeline update made
 * since they confirmed; ON CONFLICT makes running it again (or on two
 * instances at once) add nothing.
 */
export async function queueDeliveries(db: Db): Promise<number> {
  const r = await db.raw<{ rowCount: number }>(
    `INSERT INTO ${D} (subscriber_id, update_id)
     SELECT s.id, u.id FROM ${T} s
     JOIN portal.notice_updates u ON u.at >= s.confirmed_at
     WHERE s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL
     ON CONFLICT (subscriber_id, update_id) DO NOTHING`,
  );
  return r.rowCount;
}

export interface ClaimedDelivery {
  subscriber_id: number;
  update_id: number;
  attempts: number;
}

/**
 * Takes a batch of queued deliveries for this worker: SKIP LOCKED lets other
 * workers take other rows; the move to 'sending' commits before any mail
 * leaves, so a crash leaves 'sending' rows that are never sent again. The
 * owner (the process's work-owner id) tells such rows from ones in flight.
 */
export async function claimDeliveries(db: Knex, limit: number, owner: string): Promise<ClaimedDelivery[]> {
  const r = await db.raw<{ rows: ClaimedDelivery[] }>(
    `UPDATE ${D} d SET status = 'sending', attempts = d.attempts + 1, owner = ?, claimed_at = now()
     FROM (SELECT subscriber_id, update_id FROM ${D} WHERE status = 'queued' ORDER BY update_id, subscriber_id LIMIT ? FOR UPDATE SKIP LOCKED) q
     WHERE d.subscriber_id = q.subscriber_id AND d.update_id = q.update_id
     RETURNING d.subscriber_id, d.update_id, d.attempts`,
    [owner, limit],
  );
  return r.rows.map((x) => ({ subscriber_id: Number(x.subscriber_id), update_id: Number(x.update_id), attempts: Number(x.attempts) }));
}

export async function finishDelivery(db: Db, d: ClaimedDelivery, status: 'sent' | 'failed' | 'skipped' | 'queued', error: string | null = null): Promise<void> {
  await db(D)
    .where({ subscriber_id: d.subscriber_id, update_id: d.update_id, status: 'sending' })
    .update({ status, last_error: error, sent_at: status === 'sent' ? db.fn.now() : null });
}

export interface UpdateForMail {
  id: number;
  notice_id: number;
  at: Date;
  state: string;
  body_ja: string;
  body_en: string;
  kind: 'incident' | 'maintenance';
  severity: string;
  title_ja: string;
  title_en: string;
}

export async function findUpdateForMail(db: Db, updateId: number): Promise<UpdateForMail | undefined> {
  return db('portal.notice_updates as u')
    .join('portal.notices as n', 'n.id', 'u.notice_id')
    .where('u.id', updateId)
    .first('u.id', 'u.notice_id', 'u.at', 'u.state', 'u.body_ja', 'u.body_en', 'n.kind', 'n.severity', 'n.title_ja', 'n.title_en');
}

export interface SendingDelivery {
  subscriber_id: number;
  update_id: number;
  email: string;
  owner: string | null;
  claimed_at: Date | null;
}

/** Deliveries in 'sending' claimed within the last `days` (older ones were surfaced long enough), oldest first. */
export async function listSendingDeliveries(db: Db, days: number): Promise<SendingDelivery[]> {
  const rows = await db(`${D} as d`)
    .join(`${T} as s`, 's.id', 'd.subscriber_id')
    .where('d.status', 'sending')
    .where((q) => q.whereNull('d.claimed_at').orWhere('d.claimed_at', '>', db.raw('now() - make_interval(days => ?)', [days])))
    .orderBy('d.claimed_at')
    .select('d.subscriber_id', 'd.update_id', 's.email', 'd.owner', 'd.claimed_at');
  return rows.map((r) => ({ ...r, subscriber_id: Number(r.subscriber_id), update_id: Number(r.update_id) }));
}
