import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface RestoreRow {
  id: number;
  user_id: number;
  claim_id: number | null;
  old_user_id: number | null;
  /** Set when the restore came from the person's own archive (then claim_id and old_user_id are null). */
  archive_id: number | null;
  status: 'done' | 'undone';
  summary: Record<string, number>;
  created_by: string;
  created_at: Date;
  undo_until: Date;
  undone_at: Date | null;
}

export interface WriteRow {
  id: number;
  restore_id: number;
  op: 'insert' | 'update' | 'file';
  table_name: string | null;
  row_id: number | null;
  column_name: string | null;
  before: unknown;
  after: unknown;
  file_path: string | null;
  sha256: string | null;
}

export type NewWrite = Omit<WriteRow, 'id' | 'restore_id'>;

const RESTORES = 'portal.restores';
const WRITES = 'portal.restore_writes';

const asRestore = (r: RestoreRow | undefined): RestoreRow | undefined => (r ? { ...r, id: Number(r.id), user_id: Number(r.user_id), claim_id: r.claim_id === null ? null : Number(r.claim_id), archive_id: r.archive_id === null ? null : Number(r.archive_id) } : undefined);

export async function insertRestore(db: Db, r: { user_id: number; claim_id: number | null; old_user_id: number | null; archive_id?: number; created_by: string; undo_until: Date }): Promise<number> {
  const [row] = await db(RESTORES).insert(r).returning('id');
  return Number(row.id);
}

export async function setSummary(db: Db, id: number, summary: Record<string, number>): Promise<void> {
  await db(RESTORES).where({ id }).update({ summary: JSON.stringify(summary) });
}

/** Every write of a restore, in one multi-row insert per batch (a large restore records thousands). */
/**
 * Records a restore's writes in order (undo walks them by id, newest first). One JSON parameter per batch
 * rather than nine bindings a row: a 10,000-post restore records ~35,000 writes, and the bound form's
 * SQL text and arrays were the restore's largest allocation.
 */
export async function recordWrites(db: Db, restoreId: number, writes: NewWrite[]): Promise<void> {
  for (let i = 0; i < writes.length; i += 5000) {
    const batch = JSON.stringify(
      writes.slice(i, i + 5000).map((w) => ({
        ...w,
        before: w.before === undefined ? null : JSON.stringify(w.before),
        after: w.after === undefined ? null : JSON.stringify(w.after),
      })),
    );
    await db.raw(
      `INSERT INTO ${WRITES} (restore_id, op, table_name, row_id, column_name, before, after, file_path, sha256)
       SELECT ?, w.op, w.table_name, w.row_id, w.column_name, w.before::jsonb, w.after::jsonb, w.file_path, w.sha256
         FROM ROWS FROM (json_to_recordset(?::json)
              AS (op text, table_name text, row_id bigint, column_name text, before text, after text, file_path text, sha256 text))
              WITH ORDINALITY AS w(op, table_name, row_id, column_name, before, after, file_path, sha256, n)
        ORDER BY w.n`,
      [restoreId, batch],
    );
  }
}

export async function lockRestore(trx: Knex.Transaction, id: number): Promise<RestoreRow | undefined> {
  return asRestore(await trx(RESTORES).where({ id }).forUpdate().first());
}

/** A restore's writes, newest first: undo walks them so children go before parents. */
export async function writesNewestFirst(db: Db, restoreId: number): Promise<WriteRow[]> {
  return (await db(WRITES).where({ restore_id: restoreId }).orderBy('id', 'desc')).map((w: WriteRow) => ({ ...w, row_id: w.row_id === null ? null : Number(w.row_id) }));
}

export async function markUndone(db: Db, id: number): Promise<void> {
  await db(RESTORES).where({ id }).update({ status: 'undone', undone_at: db.fn.now() });
}

export async function restoresOfUser(db: Db, userId: number): Promise<RestoreRow[]> {
  return (await db(RESTORES).where({ user_id: userId }).orderBy('id', 'desc')).map((r: RestoreRow) => asRestore(r)!);
}

/** True when a claim has been used for a restore that still stands. */
export async function restoredByClaim(db: Db, claimId: number): Promise<boolean> {
  return Boolean(await db(RESTORES).where({ claim_id: claimId, status: 'done' }).first('id'));
}

export async function restoreCount(db: Db): Promise<number> {
  const [r] = await db(RESTORES).where({ status: 'done' }).count<{ n: string }[]>('* as n');
  return Number(r!.n);
}

/** Of these row ids of a table, the ones some restore inserted (undo may remove those, never others). */
export async function insertedByRestores(db: Db, table: string, rowIds: number[]): Promise<number[]> {
  if (!rowIds.length) return [];
  const rows = await db(WRITES).where({ op: 'insert', table_name: table }).whereIn('row_id', rowIds).distinct('row_id');
  return rows.map((r: { row_id: string }) => Number(r.row_id));
}

/** Rows of TOYBOX tables without an old_id column (articles, article_media) that restores wrote, by provenance key. */
export async function provenanceRows(db: Db, table: string, oldKeys: string[]): Promise<Array<{ old_key: string; row_id: number }>> {
  if (!oldKeys.length) return [];
  const rows = await db('portal.restore_provenance').where({ table_name: table }).whereIn('old_key', oldKeys).select('old_key', 'row_id');
  return rows.map((r: { old_key: string; row_id: string }) => ({ old_key: r.old_key, row_id: Number(r.row_id) }));
}

export async function recordProvenance(db: Db, restoreId: number, rows: Array<{ table_name: string; row_id: number; old_key: string }>): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) await db('portal.restore_provenance').insert(rows.slice(i, i + 2000).map((r) => ({ ...r, restore_id: restoreId })));
}
