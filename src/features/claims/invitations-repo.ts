import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;
const INVITES = 'portal.account_invitations';

export interface InvitationRow {
  id: number;
  user_id: number;
  created_at: Date;
  expires_at: Date;
  sent_at: Date | null;
  used_at: Date | null;
}

/** Unused invitations of an account that have not expired, newest first (one of them may still be on its way). */
export async function liveInvitations(db: Db, userId: number): Promise<InvitationRow[]> {
  const rows = await db(INVITES).where({ user_id: userId }).whereNull('used_at').where('expires_at', '>', new Date()).orderBy('id', 'desc').select('id', 'user_id', 'created_at', 'expires_at', 'sent_at', 'used_at');
  return rows.map((r: InvitationRow) => ({ ...r, id: Number(r.id), user_id: Number(r.user_id) }));
}

/** Serialises invitations of one account (two staff clicking at once queue one e-mail), until the transaction ends. */
export async function lockAccountInvitations(trx: Knex.Transaction, userId: number): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`claims.invitation:${userId}`]);
}

export async function insertInvitation(db: Db, row: { user_id: number; old_user_id: number; email: string; token_hash: string; link_nonce: string; created_by: string; expires_at: Date }): Promise<number> {
  const [r] = await db(INVITES).insert(row).returning('id');
  return Number(r.id);
}

export async function markSent(db: Db, id: number): Promise<void> {
  await db(INVITES).where({ id }).update({ sent_at: db.fn.now() });
}

/** What the invitation e-mail needs: the nonce its link is derived from, whether it is still usable, and the account. */
export async function invitationForMail(db: Db, id: number): Promise<{ user_id: number; old_user_id: number; created_by: string; link_nonce: string | null; expires_at: Date; used_at: Date | null; display_id: string } | undefined> {
  const row = await db(`${INVITES} as i`).join('public.users as u', 'u.id', 'i.user_id').where('i.id', id).first('i.user_id', 'i.old_user_id', 'i.created_by', 'i.link_nonce', 'i.expires_at', 'i.used_at', 'u.display_id');
  return row ? { ...row, user_id: Number(row.user_id) } : undefined;
}

/** The invitation behind a token with its account's display id and e-mail (the password rules compare with both). */
export async function findByTokenHash(db: Db, tokenHash: string): Promise<{ id: number; user_id: number; expires_at: Date; used_at: Date | null; display_id: string; email: string | null } | undefined> {
  const row = await db(`${INVITES} as i`).join('public.users as u', 'u.id', 'i.user_id').where('i.token_hash', tokenHash).first('i.id', 'i.user_id', 'i.expires_at', 'i.used_at', 'u.display_id', 'u.email');
  return row ? { ...row, id: Number(row.id), user_id: Number(row.user_id) } : undefined;
}

export async function lockInvitation(trx: Knex.Transaction, id: number): Promise<{ used_at: Date | null; expires_at: Date } | undefined> {
  return trx(INVITES).where({ id }).forUpdate().first('used_at', 'expires_at');
}

export async function markUsed(db: Db, id: number): Promise<void> {
  await db(INVITES).where({ id }).update({ used_at: db.fn.now() });
}
