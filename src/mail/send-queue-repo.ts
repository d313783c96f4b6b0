import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;
const QUEUE = 'portal.mail_send_queue';

export type QueuedStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'suppressed';

export interface QueuedMessage {
  id: number;
  email: string;
  ref: string;
  to_email: string;
  email_key: string;
  lang: string;
  status: QueuedStatus;
  attempts: number;
  owner: string | null;
  message_id: string | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const asRow = (r: QueuedMessage): QueuedMessage => ({ ...r, id: Number(r.id) });

/**
 * One message per ref: a second insert of the same ref (a double click, a
 * re-run) returns the first row's id and adds nothing.
 */
export async function insertMessage(db: Db, row: { email: string; ref: string; to_email: string; email_key: string; lang: string }): Promise<number> {
  const inserted = await db.raw<{ rows: Array<{ id: string }> }>(
    `INSERT INTO ${QUEUE} (email, ref, to_email, email_key, lang) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING RETURNING id`,
    [row.email, row.ref, row.to_email, row.email_key, row.lang],
  );
  if (inserted.rows[0]) return Number(inserted.rows[0].id);
  const existing = await db(QUEUE).where({ ref: row.ref }).first<{ id: string }>('id');
  return Number(existing!.id);
}

export async function messageById(db: Db, id: number): Promise<QueuedMessage | undefined> {
  const r = await db(QUEUE).where({ id }).first<QueuedMessage | undefined>();
  return r ? asRow(r) : undefined;
}

export async function messagesByRef(db: Db, refs: string[]): Promise<QueuedMessage[]> {
  if (!refs.length) return [];
  return (await db(QUEUE).whereIn('ref', refs).select<QueuedMessage[]>()).map(asRow);
}

/**
 * The claim before SMTP: only a queued row moves to 'sending', with this
 * process as its owner and its fixed Message-ID, so two workers (or a
 * duplicate job) can never both send it. Committed before any byte goes out.
 */
export async function claimMessage(trx: Knex.Transaction, id: number, owner: string, messageIdDomain: string): Promise<QueuedMessage | undefined> {
  const r = await trx.raw<{ rows: QueuedMessage[] }>(
    `UPDATE ${QUEUE}
        SET status = 'sending', attempts = attempts + 1, owner = ?, claimed_at = clock_timestamp(),
            message_id = coalesce(message_id, '<' || email || '.' || id || '@' || ? || '>')
      WHERE id = ? AND status = 'queued'
      RETURNING *`,
    [owner, messageIdDomain, id],
  );
  return r.rows[0] ? asRow(r.rows[0]) : undefined;
}

/** Ends a claimed row (sent, failed, suppressed) or puts it back in the queue; only the claiming owner can. */
export async function finishMessage(db: Db, id: number, owner: string, status: QueuedStatus, error: string | null = null): Promise<void> {
  await db(QUEUE)
    .where({ id, owner, status: 'sending' })
    .update({
      status,
      ...(status === 'queued' ? { owner: null } : {}),
      ...(status === 'sent' ? { sent_at: db.raw('clock_timestamp()') } : {}),
      ...(error !== null ? { last_error: error.slice(0, 500) } : {}),
    });
}

/** Rows some process is sending under this ref prefix, with their owner (for the sweep's liveness check). */
export async function sendingMessages(db: Db, refPrefix: string): Promise<Array<{ id: number; owner: string | null }>> {
  const rows = await db(QUEUE).where({ status: 'sending' }).whereLike('ref', `${refPrefix}%`).select<Array<{ id: string; owner: string | null }>>('id', 'owner');
  return rows.map((r) => ({ id: Number(r.id), owner: r.owner }));
}

/**
 * A row whose sender died mid-send goes back to the queue (same Message-ID),
 * flagged: last_error says the worker was lost, which is how an operator finds
 * the rare person who may hold two copies (docs/design/exactly-once.md).
 */
export async function takeOver(db: Db, id: number, deadOwner: string | null): Promise<boolean> {
  const n = await db(QUEUE)
    .where({ id, status: 'sending' })
    .andWhere((q) => (deadOwner === null ? q.whereNull('owner') : q.where({ owner: deadOwner })))
    .update({ status: 'queued', owner: null, last_error: 'worker lost during send (its process is gone)' });
  return n > 0;
}

/** Queued rows no job has tried for a while (the enqueue after the commit never happened, or its job was lost). */
export async function idleQueued(db: Db, refPrefix: string, idleSeconds: number): Promise<number[]> {
  const rows = await db(QUEUE)
    .where({ status: 'queued' })
    .whereLike('ref', `${refPrefix}%`)
    .whereRaw('coalesce(claimed_at, created_at) < clock_timestamp() - make_interval(secs => ?)', [idleSeconds])
    .orderBy('id')
    .limit(500)
    .select<Array<{ id: string }>>('id');
  return rows.map((r) => Number(r.id));
}
