import type { Knex } from 'knex';
import { normalizeEmail } from './superusers';

type Db = Knex | Knex.Transaction;

/** TOYBOX's create_user stores `<display_id>@toybox.local` when sign-up gave no address: never a real mailbox. */
export const PLACEHOLDER_SUFFIX = '@toybox.local';

/** True for TOYBOX's placeholder (or no address at all): the only values the portal may replace. */
export function isPlaceholderEmail(email: string | null): boolean {
  return email === null || email === '' || email.toLowerCase().endsWith(PLACEHOLDER_SUFFIX);
}

/** Whether any account already holds this address (compared case-insensitively, as the portal signs in). */
export async function emailInUse(db: Db, email: string): Promise<boolean> {
  const row = await db('public.users').whereRaw('lower(email) = lower(?)', [email]).first('id');
  return row !== undefined;
}

export type AttachOutcome = 'attached' | 'has_real_address' | 'address_taken' | 'no_account';

/**
 * Puts a proven address on an account that holds TOYBOX's placeholder. Locks
 * the row, so two tabs cannot race; a real address is never replaced. Stores
 * the address as TOYBOX's normalize_email would (domain lower-cased), and moves
 * updated_at as Django's save() does. Call inside a transaction.
 */
export async function attachEmailToPlaceholder(trx: Knex.Transaction, userId: number, email: string): Promise<AttachOutcome> {
  const user = await trx('public.users').where({ id: userId }).forUpdate().first<{ email: string | null } | undefined>('email');
  if (!user) return 'no_account';
  if (!isPlaceholderEmail(user.email)) return 'has_real_address';
  // users.email is UNIQUE but case-sensitive; the portal treats case variants as the same person.
  if (await emailInUse(trx, email)) return 'address_taken';
  await trx('public.users').where({ id: userId }).update({ email: normalizeEmail(email), updated_at: trx.fn.now() });
  return 'attached';
}
