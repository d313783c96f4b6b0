import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;
const TOKENS = 'portal.claim_email_tokens';

/** An e-mail proof link's row: the token is stored hashed; the nonce lets the sending worker derive the link. */
export async function insertEmailToken(db: Db, t: { user_id: number; email: string; token_hash: string; link_nonce: string; expires_at: Date }): Promise<number> {
  const [r] = await db(TOKENS).insert(t).returning('id');
  return Number(r.id);
}

/** What the proof-link e-mail needs: the nonce, whether it is still usable, and who asked. */
export async function emailTokenForMail(db: Db, id: number): Promise<{ link_nonce: string | null; expires_at: Date; confirmed_at: Date | null; display_id: string } | undefined> {
  return db(`${TOKENS} as t`).join('public.users as u', 'u.id', 't.user_id').where('t.id', id).first('t.link_nonce', 't.expires_at', 't.confirmed_at', 'u.display_id');
}
