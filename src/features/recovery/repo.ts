import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface TickRow {
  item: string;
  ticked_by: string;
  ticked_at: Date;
  note: string | null;
}

export async function selectTicks(db: Db): Promise<TickRow[]> {
  return db('portal.recovery_ticks').select<TickRow[]>('*');
}

export async function findTick(db: Db, item: string, forUpdate = false): Promise<TickRow | undefined> {
  const q = db('portal.recovery_ticks').where({ item }).first<TickRow | undefined>();
  if (forUpdate) q.forUpdate();
  return q;
}

/** Inserts the tick; null when someone ticked it first (the row stays theirs). */
export async function insertTick(db: Db, row: Omit<TickRow, 'ticked_at'>): Promise<TickRow | null> {
  const r = await db.raw<{ rows: TickRow[] }>(
    'INSERT INTO portal.recovery_ticks (item, ticked_by, note) VALUES (?, ?, ?) ON CONFLICT (item) DO NOTHING RETURNING *',
    [row.item, row.ticked_by, row.note],
  );
  return r.rows[0] ?? null;
}

export async function deleteTick(db: Db, item: string): Promise<TickRow | null> {
  const [row] = await db('portal.recovery_ticks').where({ item }).delete().returning('*');
  return (row as TickRow | undefined) ?? null;
}
