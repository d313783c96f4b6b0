import type { Knex } from 'knex';

/**
 * The one list of addresses never to mail (portal.suppressions: unsubscribed
 * from campaigns, hard bounces, complaints, blocked by an admin), read by
 * every feature that sends: a bounce or complaint recorded by campaigns also
 * stops status-update mail. Only campaigns writes it.
 */
export async function isSuppressed(db: Knex | Knex.Transaction, emailKey: string): Promise<boolean> {
  const row = await db('portal.suppressions').where({ email_key: emailKey }).first('email_key');
  return row !== undefined;
}
