import type { Knex } from 'knex';

/**
 * Signs a user out of every portal session (a new password must lock out
 * whoever knew the old one). Sessions are connect-pg-simple rows whose JSON
 * carries passport's serialised user.
 */
export async function endPortalSessions(db: Knex | Knex.Transaction, userId: number): Promise<number> {
  return db('portal.sessions').whereRaw(`(sess::jsonb #>> '{passport,user,id}') = ?`, [String(userId)]).delete();
}
