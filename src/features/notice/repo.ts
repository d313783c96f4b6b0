import type { Knex } from 'knex';
import type { NoticeRow, NoticeUpdateRow } from './model';

type Db = Knex | Knex.Transaction;

export const NOTIFY_CHANNEL = 'portal_notice';

export type NoticeFields = Omit<NoticeRow, 'id' | 'published_at' | 'resolved_at' | 'version' | 'created_by' | 'created_at' | 'updated_at'>;

export async function insertNotice(db: Db, fields: NoticeFields, createdBy: string): Promise<number> {
  const [row] = await db('portal.notices').insert({ ...fields, created_by: createdBy }).returning('id');
  return Number(row.id);
}

export async function updateNoticeRow(db: Db, id: number, patch: Partial<NoticeRow>): Promise<void> {
  await db('portal.notices').where({ id }).update({ ...patch, updated_at: db.fn.now() });
}

export async function findNotice(db: Db, id: number, forUpdate = false): Promise<NoticeRow | undefined> {
  const q = db<NoticeRow>('portal.notices').where({ id }).first();
  if (forUpdate) q.forUpdate();
  return q;
}

export async function listNotices(db: Db, limit = 200): Promise<NoticeRow[]> {
  return db<NoticeRow>('portal.notices').orderBy('id', 'desc').limit(limit);
}

/** Published notices still open, plus those closed within the last `days` days. */
export async function selectPublicNotices(db: Db, days: number): Promise<NoticeRow[]> {
  return db<NoticeRow>('portal.notices')
    .whereNotNull('published_at')
    .andWhere((q) => q.whereNull('resolved_at').orWhere('resolved_at', '>=', db.raw(`now() - make_interval(days => ?)`, [days])))
    .orderBy('published_at', 'desc');
}

export async function insertUpdate(db: Db, u: Omit<NoticeUpdateRow, 'id' | 'at'>): Promise<number> {
  const [row] = await db('portal.notice_updates').insert(u).returning('id');
  return Number(row.id);
}

export async function selectUpdates(db: Db, noticeIds: number[]): Promise<NoticeUpdateRow[]> {
  if (noticeIds.length === 0) return [];
  return db<NoticeUpdateRow>('portal.notice_updates').whereIn('notice_id', noticeIds).orderBy([{ column: 'at', order: 'asc' }, { column: 'id', order: 'asc' }]);
}

/**
 * Bumps the global version and queues a NOTIFY; PostgreSQL delivers it when
 * the transaction commits, so listeners never see a version before its data.
 */
export async function bumpVersion(trx: Knex.Transaction): Promise<number> {
  const { rows } = await trx.raw<{ rows: Array<{ version: number }> }>(
    `INSERT INTO portal.notice_meta AS m (id, version) VALUES (1, 1)
     ON CONFLICT (id) DO UPDATE SET version = m.version + 1, updated_at = now()
     RETURNING version`,
  );
  const version = Number(rows[0]!.version);
  await trx.raw('SELECT pg_notify(?, ?)', [NOTIFY_CHANNEL, String(version)]);
  return version;
}

export async function currentVersion(db: Db): Promise<number> {
  const row = await db('portal.notice_meta').where({ id: 1 }).first('version');
  return row ? Number(row.version) : 0;
}
