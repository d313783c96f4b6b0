import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;
const INVITES = 'portal.account_invitations';

/** An invitation already e-mailed, unused and valid: the reason not to send another. */
export async function openInvitation(db: Db, userId: number): Promise<boolean> {
  return Boolean(await db(INVITES).where({ user_id: userId }).whereNull('used_at').whereNotNull('sent_at').where('expires_at', '>', new Date()).first('id'));
}

export async function insertInvitation(db: Db, row: { user_id: number; old_user_id: number; email: string; token_hash: string; created_by: string; expires_at: Date }): Promise<number> {
  const [r] = await db(INVITES).insert(row).returning('id');
  return Number(r.id);
}

export async function markSent(db: Db, id: number): Promise<void> {
  await db(INVITES).where({ id }).update({ sent_at: db.fn.now() });
}

/** The invitation behind a token with its account's display id. */
export async function findByTokenHash(db: Db, tokenHash: string): Promise<{ id: number; user_id: number; expires_at: Date; used_at: Date | null; display_id: string } | undefined> {
  const row = await db(`${INVITES} as i`).join('public.users as u', 'u.id', 'i.user_id').where('i.token_hash', tokenHash).first('i.id', 'i.user_id', 'i.expires_at', 'i.used_at', 'u.display_id');
  return row ? { ...row, id: Number(row.id), user_id: Number(row.user_id) } : undefined;
}

export async function lockInvitation(trx: Knex.Transaction, id: number): Promise<{ used_at: Date | null; expires_at: Date } | undefined> {
  return trx(INVITES).where({ id }).forUpdate().first('used_at', 'expires_at');
}

export async function markUsed(db: Db, id: number): Promise<void> {
  await db(INVITES).where({ id }).update({ used_at: db.fn.now() });
}
